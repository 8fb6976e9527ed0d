-- CreateEnum
CREATE TYPE "RecordingStatus" AS ENUM ('RECORDING', 'PROCESSING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "RecordingVisibility" AS ENUM ('REGISTRANTS', 'PUBLIC');

-- CreateTable
CREATE TABLE "recording" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "status" "RecordingStatus" NOT NULL DEFAULT 'RECORDING',
    "progress" INTEGER NOT NULL DEFAULT 0,
    "visibility" "RecordingVisibility" NOT NULL DEFAULT 'REGISTRANTS',
    "dir" TEXT NOT NULL,
    "duration_seconds" DOUBLE PRECISION,
    "file_path" TEXT,
    "poster_path" TEXT,
    "size_bytes" BIGINT,
    "error" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "recording_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "recording_class_id_started_at_idx" ON "recording"("class_id", "started_at");

-- CreateIndex
CREATE INDEX "recording_status_idx" ON "recording"("status");

-- AddForeignKey
ALTER TABLE "recording" ADD CONSTRAINT "recording_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

