-- Only login.uuid identifies a user: a record of an inc/exc-filtered request (say
-- inc=gender,name,location,email,login,phone,picture) has no dob, nat, ... and is still a user.
-- Every field but user_id may be null; a field that is there is validated by ingest as before.
ALTER TABLE staging.users
  ALTER COLUMN gender     DROP NOT NULL,
  ALTER COLUMN first_name DROP NOT NULL,
  ALTER COLUMN last_name  DROP NOT NULL,
  ALTER COLUMN email      DROP NOT NULL,
  ALTER COLUMN dob        DROP NOT NULL,
  ALTER COLUMN nat        DROP NOT NULL;
