-- An H.264 class's recording is its HLS stream: the EVENT playlist, relative
-- to RECORDINGS_DIR. The MP4 (file_path) is a remux made after the class.
ALTER TABLE "recording" ADD COLUMN "playlist_path" TEXT;
