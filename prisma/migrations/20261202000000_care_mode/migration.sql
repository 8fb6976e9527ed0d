-- 关怀模式 (accessibility mode) chosen by the user. NULL follows priority_service,
-- so 爱心通道 users have it on until they turn it off.
ALTER TABLE "app_user" ADD COLUMN "care_mode" BOOLEAN;
