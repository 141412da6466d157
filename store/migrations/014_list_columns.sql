-- The columns of the token list that a person has hidden, remembered for
-- them on every device: column keys separated by commas, none by default,
-- so that a column added later shows until they hide it.
ALTER TABLE users ADD COLUMN hidden_columns TEXT NOT NULL DEFAULT '';
