DROP TRIGGER app_passwords_truncate_notify_credentials ON app_passwords;
DROP TRIGGER app_passwords_notify_credentials ON app_passwords;
DROP TRIGGER users_truncate_notify_credentials ON users;
DROP TRIGGER users_delete_notify_credentials ON users;
DROP TRIGGER users_notify_credentials ON users;
DROP FUNCTION notify_credentials();
