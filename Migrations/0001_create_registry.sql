-- portkeeper's registry: gateways, declared mappings, revisions, the operations journal and
-- observations. Times are ISO 8601 UTC text; JSON columns hold PortMappingEntry values.

-- Every gateway seen, known by its root device's UDN, not by its URL.
CREATE TABLE gateway (
    id INTEGER PRIMARY KEY,
    udn TEXT NOT NULL UNIQUE,
    friendly_name TEXT NOT NULL DEFAULT '',
    manufacturer TEXT NOT NULL DEFAULT '',
    model_name TEXT NOT NULL DEFAULT '',
    model_number TEXT NOT NULL DEFAULT '',
    description_url TEXT NOT NULL,
    service_type TEXT NOT NULL,
    control_url TEXT NOT NULL,
    service_choice TEXT NOT NULL DEFAULT '',
    boot_id INTEGER,
    -- What was learned about the device.
    permanent_leases_only INTEGER NOT NULL DEFAULT 0,
    lease_cap INTEGER,
    list_end TEXT,
    list_of_port_mappings_works INTEGER,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

-- Every description URL a gateway was found at.
CREATE TABLE gateway_location (
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (gateway_id, url)
);

-- Every WAN connection service a gateway's description lists; `chosen` marks the one used.
CREATE TABLE gateway_service (
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    service_type TEXT NOT NULL,
    service_id TEXT NOT NULL,
    control_url TEXT NOT NULL,
    chosen INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (gateway_id, control_url)
);

-- The external addresses a gateway reported, one row per change.
CREATE TABLE external_address (
    id INTEGER PRIMARY KEY,
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    address_class TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX external_address_by_gateway ON external_address(gateway_id, id);

-- One row per change to the declaration or the gateway: what `history` lists.
CREATE TABLE revision (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    command TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (actor IN ('cli', 'watch')),
    gateway_id INTEGER REFERENCES gateway(id),
    summary TEXT NOT NULL DEFAULT '',
    -- JSON array of {kind, key, detail}: what changed, made or found.
    changes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX revision_by_gateway ON revision(gateway_id, id);

-- The declared mappings as they stand now. `internal_client` NULL means "this host".
CREATE TABLE declared_mapping (
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
    external_port INTEGER NOT NULL CHECK (external_port BETWEEN 1 AND 65535),
    remote_host TEXT NOT NULL DEFAULT '',
    internal_client TEXT,
    internal_port INTEGER NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
    description TEXT NOT NULL,
    lease_duration INTEGER NOT NULL CHECK (lease_duration BETWEEN 0 AND 604800),
    enabled INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (gateway_id, protocol, external_port, remote_host)
);

-- The whole declaration of a gateway right after each revision that changed it, so that a
-- rollback to any revision reads one row.
CREATE TABLE declaration_snapshot (
    revision_id INTEGER NOT NULL REFERENCES revision(id),
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    mappings TEXT NOT NULL,
    PRIMARY KEY (gateway_id, revision_id)
);

-- The operations journal: written before acting on the gateway, completed after.
-- outcome: 'pending' until known; 'ok'; 'upnp:CODE'; 'failed:TEXT'; 'unknown' when it
-- cannot be told (resolved on the next run by reading the gateway).
CREATE TABLE operation (
    id INTEGER PRIMARY KEY,
    revision_id INTEGER NOT NULL REFERENCES revision(id),
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    protocol TEXT NOT NULL,
    external_port INTEGER NOT NULL,
    remote_host TEXT NOT NULL DEFAULT '',
    arguments TEXT,
    before TEXT,
    outcome TEXT NOT NULL DEFAULT 'pending',
    started TEXT NOT NULL,
    finished TEXT
);
CREATE INDEX operation_by_revision ON operation(revision_id);
CREATE INDEX operation_pending ON operation(gateway_id) WHERE outcome IN ('pending', 'unknown');

-- Mappings on a gateway that portkeeper created (and so may delete).
CREATE TABLE owned_mapping (
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    external_port INTEGER NOT NULL,
    remote_host TEXT NOT NULL DEFAULT '',
    revision_id INTEGER NOT NULL REFERENCES revision(id),
    PRIMARY KEY (gateway_id, protocol, external_port, remote_host)
);

-- The gateway's mapping table as read at a reconcile, stored only when it changed.
CREATE TABLE observation (
    id INTEGER PRIMARY KEY,
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    time TEXT NOT NULL,
    digest TEXT NOT NULL,
    entries TEXT NOT NULL
);
CREATE INDEX observation_by_gateway ON observation(gateway_id, id);
