-- App processes report themselves here (src/lib/server/instances.ts) for the
-- operations page: when each last answered, and its media load. Times are
-- compared with the database's now(), so they carry their time zone.

-- CreateTable
CREATE TABLE "app_instance" (
    "id" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL,
    "stopped_at" TIMESTAMPTZ(3),
    "load" JSONB NOT NULL,

    CONSTRAINT "app_instance_pkey" PRIMARY KEY ("id")
);
