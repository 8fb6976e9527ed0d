-- 爱心专座 (reserved priority seats): seats of a class held for 爱心通道
-- registrants until a release time, then what is left goes to the waitlist.

ALTER TABLE "policy_class"
    ADD COLUMN "reserved_seats" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "reserved_confirmed_count" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "reserved_release_at" TIMESTAMP(3),
    ADD COLUMN "reserved_released_at" TIMESTAMP(3);

ALTER TABLE "registration" ADD COLUMN "reserved_seat" BOOLEAN NOT NULL DEFAULT false;

-- The seat counters' backstop, as for confirmed_count: reserved seats within
-- capacity, reserved holders within the reserved seats, and until the release
-- the other registrants within the seats that are not reserved.
ALTER TABLE "policy_class"
    ADD CONSTRAINT "policy_class_reserved_within_capacity" CHECK ("reserved_seats" >= 0 AND "reserved_seats" <= "capacity"),
    ADD CONSTRAINT "policy_class_reserved_taken_within_reserved" CHECK ("reserved_confirmed_count" >= 0 AND "reserved_confirmed_count" <= "reserved_seats" AND "reserved_confirmed_count" <= "confirmed_count"),
    ADD CONSTRAINT "policy_class_general_within_general_seats" CHECK ("reserved_released_at" IS NOT NULL OR "confirmed_count" - "reserved_confirmed_count" <= "capacity" - "reserved_seats");

-- Only a confirmed (or since cancelled) registration holds a reserved seat.
ALTER TABLE "registration"
    ADD CONSTRAINT "registration_reserved_seat_confirmed" CHECK (NOT "reserved_seat" OR "status" <> 'WAITLISTED');
