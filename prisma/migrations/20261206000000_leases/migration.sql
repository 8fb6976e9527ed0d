-- Leases (src/lib/server/leases.ts): which process does work only one may
-- do, until when. `expires_at` is compared with the database's now(), so it
-- carries its time zone whatever the server's setting.

-- CreateTable
CREATE TABLE "lease" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lease_pkey" PRIMARY KEY ("name")
);
