DROP TABLE push_deliveries;
DROP TABLE push_pending;
DROP TABLE push_registrations;
DROP TABLE push_keys;
