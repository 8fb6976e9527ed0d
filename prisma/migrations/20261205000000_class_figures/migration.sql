-- Cross-class report: per-class figures of ended classes, kept so the report
-- reads them instead of merging every live interval of the year each time.
--
-- `changes` counts writes that may alter a class's figures: statement-level
-- triggers on every table the figures read bump it, so rows written by any
-- path (Prisma, raw SQL, generate_series) are seen. The stored figures were
-- computed when `changes` was `computed_changes`: they are fresh only while
-- the two are equal. The class's own live window and instructor are compared
-- with `policy_class` when read, so that hot table needs no trigger.
--
-- The function bodies are E'' strings with \073 for each semicolon inside
-- them: `prisma migrate deploy` splits this file at every semicolon.

-- CreateTable
CREATE TABLE "class_figures" (
    "class_id" TEXT NOT NULL,
    "changes" BIGINT NOT NULL DEFAULT 0,
    "computed_changes" BIGINT,
    "computed_at" TIMESTAMP(3),
    "live_from" TIMESTAMP(3),
    "live_to" TIMESTAMP(3),
    "instructor_id" TEXT,
    "registered" INTEGER,
    "attended_live" INTEGER,
    "watched_replay" INTEGER,
    "live_seconds" DOUBLE PRECISION,
    "replay_seconds" DOUBLE PRECISION,
    "questions_asked" INTEGER,
    "questions_answered" INTEGER,
    "responses" INTEGER,
    "content_sum" INTEGER,
    "instructor_sum" INTEGER,
    "av_quality_sum" INTEGER,
    "priority_user_ids" TEXT[],

    CONSTRAINT "class_figures_pkey" PRIMARY KEY ("class_id")
);

-- AddForeignKey
ALTER TABLE "class_figures" ADD CONSTRAINT "class_figures_class_id_fkey" FOREIGN KEY ("class_id") REFERENCES "policy_class"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Bumps `changes` of the classes in the statement's transition tables
-- (new_rows and/or old_rows, by TG_OP). An upsert, not an update: a report
-- that read no row yet must still find its figures stale when it stores them.
-- The join skips classes deleted in the same statement (cascades).
CREATE FUNCTION "class_figures_touch"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    IF TG_OP = ''INSERT'' THEN
        INSERT INTO class_figures (class_id, changes)
        SELECT c.id, 1 FROM policy_class c WHERE c.id IN (SELECT class_id FROM new_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    ELSIF TG_OP = ''DELETE'' THEN
        INSERT INTO class_figures (class_id, changes)
        SELECT c.id, 1 FROM policy_class c WHERE c.id IN (SELECT class_id FROM old_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    ELSE
        INSERT INTO class_figures (class_id, changes)
        SELECT c.id, 1 FROM policy_class c
        WHERE c.id IN (SELECT class_id FROM new_rows UNION SELECT class_id FROM old_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    END IF\073
    RETURN NULL\073
END';

-- The same for question_vote, whose class is its question's.
CREATE FUNCTION "class_figures_touch_votes"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    IF TG_OP = ''INSERT'' THEN
        INSERT INTO class_figures (class_id, changes)
        SELECT DISTINCT q.class_id, 1 FROM question q WHERE q.id IN (SELECT question_id FROM new_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    ELSIF TG_OP = ''DELETE'' THEN
        INSERT INTO class_figures (class_id, changes)
        SELECT DISTINCT q.class_id, 1 FROM question q WHERE q.id IN (SELECT question_id FROM old_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    ELSE
        INSERT INTO class_figures (class_id, changes)
        SELECT DISTINCT q.class_id, 1 FROM question q
        WHERE q.id IN (SELECT question_id FROM new_rows UNION SELECT question_id FROM old_rows)
        ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    END IF\073
    RETURN NULL\073
END';

-- A person's role and 爱心通道 decide whether and how they count, in every
-- class they took part in. Rare (staff changes, a profile setting), so the
-- classes are found without indexes made for it, and other updates of
-- app_user (names, settings) return before looking.
CREATE FUNCTION "class_figures_touch_users"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.role IS DISTINCT FROM o.role OR n.priority_service IS DISTINCT FROM o.priority_service
    ) THEN
        RETURN NULL\073
    END IF\073
    INSERT INTO class_figures (class_id, changes)
    SELECT c.id, 1 FROM policy_class c WHERE c.id IN (
        WITH changed AS (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.role IS DISTINCT FROM o.role OR n.priority_service IS DISTINCT FROM o.priority_service
        )
        SELECT class_id FROM registration WHERE user_id IN (SELECT id FROM changed)
        UNION SELECT class_id FROM live_attendance WHERE user_id IN (SELECT id FROM changed)
        UNION SELECT class_id FROM replay_watch WHERE user_id IN (SELECT id FROM changed)
        UNION SELECT class_id FROM question WHERE author_id IN (SELECT id FROM changed)
        UNION SELECT q.class_id FROM question_vote v JOIN question q ON q.id = v.question_id
              WHERE v.user_id IN (SELECT id FROM changed)
    )
    ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    RETURN NULL\073
END';

-- TRUNCATE has no transition table: every class is stale.
CREATE FUNCTION "class_figures_touch_all"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    INSERT INTO class_figures (class_id, changes) SELECT id, 1 FROM policy_class
    ON CONFLICT (class_id) DO UPDATE SET changes = class_figures.changes + 1\073
    RETURN NULL\073
END';

-- A trigger with transition tables fires on one event only, hence three per table.
CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "live_attendance" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "live_attendance" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "live_attendance" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "live_attendance" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "replay_watch" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "replay_watch" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "replay_watch" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "replay_watch" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "question" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "question" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "question" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "question" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "question_vote" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_votes"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "question_vote" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_votes"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "question_vote" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_votes"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "question_vote" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "registration" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "registration" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "registration" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "registration" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_insert" AFTER INSERT ON "survey_response" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "survey_response" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_delete" AFTER DELETE ON "survey_response" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch"();
CREATE TRIGGER "class_figures_truncate" AFTER TRUNCATE ON "survey_response" FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_all"();

CREATE TRIGGER "class_figures_update" AFTER UPDATE ON "app_user" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "class_figures_touch_users"();
