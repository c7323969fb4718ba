// The registry's schema migrations, the .sql files of this folder, reach Swift through the
// EmbedMigrations build-tool plugin: it generates `EmbeddedMigration` and
// `EmbeddedMigrations.all` (sorted by name, each with its SQL and SHA-256) at build time, so
// that the binary needs no resource files. This file only gives the target a Swift source.
