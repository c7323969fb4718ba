-- Learned: how many bytes of a description the gateway keeps (it truncates the rest), so that
-- a truncated description counts as written while a changed one is still sent.
ALTER TABLE gateway ADD COLUMN description_limit INTEGER;
