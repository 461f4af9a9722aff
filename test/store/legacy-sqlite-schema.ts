/** The SQLite schema as the store's own migration runner shipped it (recorded in PRAGMA user_version),
 * to create files as that release left them. Frozen copy: never edit. */
export const LEGACY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE integrations (
    id                TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    sync_from         TEXT,
    time_zone         TEXT,
    microsoft_account TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
  );
  CREATE TABLE token_caches (
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    sealed         BLOB NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (integration_id, provider)
  );
  CREATE TABLE manifest (
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    attachment_id  TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    bank_account_id TEXT NOT NULL,
    folder_path    TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    size           INTEGER NOT NULL,
    state          TEXT NOT NULL,
    drive_item_id  TEXT,
    folder_id      TEXT,
    quick_xor_hash TEXT,
    upload_url     TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    failed_in_run  INTEGER,
    last_error     TEXT,
    seq            INTEGER NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (integration_id, attachment_id)
  );
  CREATE INDEX manifest_state ON manifest (integration_id, state, seq);
  CREATE INDEX manifest_item ON manifest (integration_id, drive_item_id);
  CREATE INDEX manifest_folder ON manifest (integration_id, folder_path);
  CREATE UNIQUE INDEX manifest_path ON manifest (integration_id, lower(folder_path), lower(file_name));
  CREATE TABLE folders (
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    drive_item_id  TEXT NOT NULL,
    PRIMARY KEY (integration_id, path)
  );
  CREATE INDEX folders_item ON folders (integration_id, drive_item_id);
  `,
  `
  CREATE TABLE sign_ins (
    state          TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    sealed         BLOB NOT NULL,
    expires_at     INTEGER NOT NULL
  );
  `,
  `
  ALTER TABLE integrations ADD COLUMN organization_id TEXT;
  `,
  `
  CREATE TABLE qonto_sign_ins (
    id         TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE admin_sessions (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
  );
  INSERT INTO admin_sessions (id, epoch) VALUES (1, 0);
  `,
  `
  ALTER TABLE manifest ADD COLUMN throttled_tries INTEGER NOT NULL DEFAULT 0;
  `,
];
