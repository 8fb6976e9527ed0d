-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('TAXPAYER', 'INSTRUCTOR', 'STAFF', 'ADMIN');

-- CreateEnum
CREATE TYPE "PriorityReason" AS ENUM ('ELDERLY', 'DISABLED', 'PREGNANT');

-- CreateEnum
CREATE TYPE "ClassFormat" AS ENUM ('ONLINE', 'IN_PERSON', 'HYBRID');

-- CreateEnum
CREATE TYPE "ClassStatus" AS ENUM ('SCHEDULED', 'LIVE', 'ENDED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "RegistrationStatus" AS ENUM ('CONFIRMED', 'WAITLISTED', 'CANCELLED');

-- CreateTable
CREATE TABLE "app_user" (
    "id" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'TAXPAYER',
    "display_name" TEXT NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "password_hash" TEXT NOT NULL,
    "company_name" TEXT,
    "credit_code" TEXT,
    "priority_service" BOOLEAN NOT NULL DEFAULT false,
    "priority_reason" "PriorityReason",
    "disabled_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_class" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "topics" TEXT[],
    "instructor_id" TEXT NOT NULL,
    "starts_at" TIMESTAMP(3) NOT NULL,
    "duration_minutes" INTEGER NOT NULL,
    "format" "ClassFormat" NOT NULL,
    "location" TEXT,
    "capacity" INTEGER NOT NULL,
    "confirmed_count" INTEGER NOT NULL DEFAULT 0,
    "registration_opens_at" TIMESTAMP(3) NOT NULL,
    "registration_closes_at" TIMESTAMP(3) NOT NULL,
    "status" "ClassStatus" NOT NULL DEFAULT 'SCHEDULED',
    "cancel_reason" TEXT,
    "cancelled_at" TIMESTAMP(3),
    "went_live_at" TIMESTAMP(3),
    "ended_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "policy_class_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registration" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "status" "RegistrationStatus" NOT NULL,
    "seq" SERIAL NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirmed_at" TIMESTAMP(3),
    "waitlisted_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),
    "notice_seen_at" TIMESTAMP(3),

    CONSTRAINT "registration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "app_user_email_key" ON "app_user"("email");

-- CreateIndex
CREATE UNIQUE INDEX "app_user_phone_key" ON "app_user"("phone");

-- CreateIndex
CREATE INDEX "session_user_id_idx" ON "session"("user_id");

-- CreateIndex
CREATE INDEX "policy_class_starts_at_idx" ON "policy_class"("starts_at");

-- CreateIndex
CREATE INDEX "registration_class_id_status_seq_idx" ON "registration"("class_id", "status", "seq");

-- CreateIndex
CREATE INDEX "registration_user_id_idx" ON "registration"("user_id");

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_class" ADD CONSTRAINT "policy_class_instructor_id_fkey" FOREIGN KEY ("instructor_id") REFERENCES "app_user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registration" ADD CONSTRAINT "registration_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registration" ADD CONSTRAINT "registration_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Registration rules the database enforces itself, whatever the caller does.

-- Never more confirmed seats than capacity.
ALTER TABLE "policy_class"
    ADD CONSTRAINT "policy_class_capacity_positive" CHECK ("capacity" > 0),
    ADD CONSTRAINT "policy_class_seats_within_capacity" CHECK ("confirmed_count" >= 0 AND "confirmed_count" <= "capacity"),
    ADD CONSTRAINT "policy_class_duration_positive" CHECK ("duration_minutes" > 0),
    ADD CONSTRAINT "policy_class_registration_window" CHECK ("registration_opens_at" < "registration_closes_at"),
    ADD CONSTRAINT "policy_class_in_person_has_location" CHECK ("format" = 'ONLINE' OR "location" IS NOT NULL);

-- One active (confirmed or waitlisted) registration per user per class.
CREATE UNIQUE INDEX "registration_one_active_per_user" ON "registration"("class_id", "user_id") WHERE "status" <> 'CANCELLED';

-- A waitlisted registration always has its place in the queue.
ALTER TABLE "registration"
    ADD CONSTRAINT "registration_waitlist_position" CHECK ("status" <> 'WAITLISTED' OR "waitlisted_at" IS NOT NULL);

-- A user is reached by email or mobile number, at least one is required.
ALTER TABLE "app_user"
    ADD CONSTRAINT "app_user_has_contact" CHECK ("email" IS NOT NULL OR "phone" IS NOT NULL);
