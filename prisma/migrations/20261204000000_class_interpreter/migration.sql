-- 手语翻译: the account staff assign to interpret a class in sign language.
-- Removing the account only removes the assignment.
ALTER TABLE "policy_class" ADD COLUMN "interpreter_id" TEXT;
ALTER TABLE "policy_class" ADD CONSTRAINT "policy_class_interpreter_id_fkey" FOREIGN KEY ("interpreter_id") REFERENCES "app_user"("id") ON DELETE SET NULL ON UPDATE CASCADE;
