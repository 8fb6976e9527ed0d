-- Around the class: materials, the email outbox, the satisfaction survey, live and replay attendance

-- CreateEnum
CREATE TYPE "MaterialVisibility" AS ENUM ('REGISTRANTS', 'PUBLIC');

-- CreateEnum
CREATE TYPE "MailKind" AS ENUM ('REGISTERED', 'PROMOTED', 'REMINDER_24H', 'REMINDER_1H', 'CANCELLED', 'RESCHEDULED', 'REPLAY_READY');

-- CreateEnum
CREATE TYPE "MailJobStatus" AS ENUM ('PENDING', 'SENT', 'FAILED', 'SKIPPED', 'CANCELLED');

-- AlterTable
ALTER TABLE "app_user" ADD COLUMN     "email_reminders" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "locale" TEXT NOT NULL DEFAULT 'zh-CN';

-- CreateTable
CREATE TABLE "material" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "file_name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "stored_path" TEXT NOT NULL,
    "visibility" "MaterialVisibility" NOT NULL DEFAULT 'REGISTRANTS',
    "uploaded_by_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "material_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mail_job" (
    "id" TEXT NOT NULL,
    "kind" "MailKind" NOT NULL,
    "user_id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "run_at" TIMESTAMP(3) NOT NULL,
    "status" "MailJobStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMP(3),
    "starts_at" TIMESTAMP(3),
    "last_error" TEXT,
    "sent_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mail_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "survey_response" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "content" INTEGER NOT NULL,
    "instructor" INTEGER NOT NULL,
    "av_quality" INTEGER NOT NULL,
    "comment" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "survey_response_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "live_attendance" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "connection_id" TEXT NOT NULL,
    "joined_at" TIMESTAMP(3) NOT NULL,
    "left_at" TIMESTAMP(3),
    "seen_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "live_attendance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replay_watch" (
    "class_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "reported_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "replay_watch_pkey" PRIMARY KEY ("class_id","user_id")
);

-- CreateIndex
CREATE INDEX "material_class_id_created_at_idx" ON "material"("class_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "mail_job_dedupe_key_key" ON "mail_job"("dedupe_key");

-- CreateIndex
CREATE INDEX "mail_job_status_run_at_idx" ON "mail_job"("status", "run_at");

-- CreateIndex
CREATE INDEX "mail_job_class_id_status_idx" ON "mail_job"("class_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "survey_response_class_id_user_id_key" ON "survey_response"("class_id", "user_id");

-- CreateIndex
CREATE INDEX "live_attendance_class_id_user_id_joined_at_idx" ON "live_attendance"("class_id", "user_id", "joined_at");

-- CreateIndex
CREATE INDEX "live_attendance_connection_id_idx" ON "live_attendance"("connection_id");

-- AddForeignKey
ALTER TABLE "material" ADD CONSTRAINT "material_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "material" ADD CONSTRAINT "material_uploaded_by_id_fkey" FOREIGN KEY ("uploaded_by_id") REFERENCES "app_user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mail_job" ADD CONSTRAINT "mail_job_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mail_job" ADD CONSTRAINT "mail_job_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "survey_response" ADD CONSTRAINT "survey_response_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "survey_response" ADD CONSTRAINT "survey_response_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "live_attendance" ADD CONSTRAINT "live_attendance_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "live_attendance" ADD CONSTRAINT "live_attendance_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "replay_watch" ADD CONSTRAINT "replay_watch_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "replay_watch" ADD CONSTRAINT "replay_watch_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Ratings are whole stars from 1 to 5, checked by the database as well as the form.
ALTER TABLE "survey_response" ADD CONSTRAINT "survey_response_ratings_check"
    CHECK ("content" BETWEEN 1 AND 5 AND "instructor" BETWEEN 1 AND 5 AND "av_quality" BETWEEN 1 AND 5);

ALTER TABLE "app_user" ADD CONSTRAINT "app_user_locale_check" CHECK ("locale" IN ('zh-CN', 'en'));

ALTER TABLE "replay_watch" ADD CONSTRAINT "replay_watch_seconds_check" CHECK ("seconds" >= 0);

-- The sweeper looks for connections still open, and only for those.
CREATE INDEX "live_attendance_open_idx" ON "live_attendance"("seen_at") WHERE "left_at" IS NULL;
