-- CreateEnum
CREATE TYPE "QuestionStatus" AS ENUM ('PENDING', 'VISIBLE', 'HIDDEN');

-- AlterTable
ALTER TABLE "policy_class" ADD COLUMN     "qa_pre_moderation" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "qa_seq" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "question" (
    "id" TEXT NOT NULL,
    "class_id" TEXT NOT NULL,
    "author_id" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "anonymous" BOOLEAN NOT NULL DEFAULT false,
    "status" "QuestionStatus" NOT NULL,
    "vote_count" INTEGER NOT NULL DEFAULT 0,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "offset_ms" INTEGER,
    "answer_text" TEXT,
    "answered_live" BOOLEAN NOT NULL DEFAULT false,
    "answered_by_id" TEXT,
    "answered_at" TIMESTAMP(3),
    "answer_offset_ms" INTEGER,
    "claimed_by_id" TEXT,
    "claimed_at" TIMESTAMP(3),
    "version" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "question_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "question_vote" (
    "question_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "question_vote_pkey" PRIMARY KEY ("question_id","user_id")
);

-- CreateIndex
CREATE INDEX "question_class_id_version_idx" ON "question"("class_id", "version");

-- CreateIndex
CREATE INDEX "question_class_id_created_at_idx" ON "question"("class_id", "created_at");

-- CreateIndex
CREATE INDEX "question_author_id_created_at_idx" ON "question"("author_id", "created_at");

-- CreateIndex
CREATE INDEX "question_vote_user_id_created_at_idx" ON "question_vote"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "question" ADD CONSTRAINT "question_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "question" ADD CONSTRAINT "question_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "question" ADD CONSTRAINT "question_answered_by_id_fkey" FOREIGN KEY ("answered_by_id") REFERENCES "app_user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "question" ADD CONSTRAINT "question_claimed_by_id_fkey" FOREIGN KEY ("claimed_by_id") REFERENCES "app_user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "question_vote" ADD CONSTRAINT "question_vote_question_id_fkey" FOREIGN KEY ("question_id") REFERENCES "question"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "question_vote" ADD CONSTRAINT "question_vote_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Length limits enforced by the database as well as by the service.
ALTER TABLE "question" ADD CONSTRAINT "question_text_length" CHECK (char_length("text") BETWEEN 1 AND 500);
ALTER TABLE "question" ADD CONSTRAINT "question_answer_length" CHECK ("answer_text" IS NULL OR char_length("answer_text") BETWEEN 1 AND 2000);
ALTER TABLE "question" ADD CONSTRAINT "question_vote_count_nonnegative" CHECK ("vote_count" >= 0);
