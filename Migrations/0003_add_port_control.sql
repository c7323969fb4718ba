-- NAT-PMP (RFC 6886) and PCP (RFC 6887) beside UPnP IGD.
--
-- A gateway may be reached over UPnP IGD, PCP and NAT-PMP. One that speaks only PCP or NAT-PMP
-- has no description: its udn is an identity portkeeper gives it ('pcp:' LAN address, plus the
-- hardware address when the neighbour table knows it), and description_url, service_type and
-- control_url are empty.

-- The LAN address where PCP or NAT-PMP answered (UDP 5351), and which of the two did.
ALTER TABLE gateway ADD COLUMN port_control_server TEXT;
ALTER TABLE gateway ADD COLUMN speaks_pcp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE gateway ADD COLUMN speaks_natpmp INTEGER NOT NULL DEFAULT 0;
-- The gateway's hardware (MAC) address, from the neighbour table, part of a PCP gateway's identity.
ALTER TABLE gateway ADD COLUMN hardware_address TEXT;
-- The protocol the user chose for this gateway's mappings (`add --protocol`); NULL: portkeeper's choice.
ALTER TABLE gateway ADD COLUMN declared_protocol TEXT CHECK (declared_protocol IN ('upnp', 'pcp', 'natpmp'));
-- The server's epoch (PCP Epoch Time, NAT-PMP seconds since start of epoch) as last seen, and
-- when: a server whose epoch does not advance with our clock lost its mappings (it restarted).
ALTER TABLE gateway ADD COLUMN server_epoch INTEGER;
ALTER TABLE gateway ADD COLUMN server_epoch_seen TEXT;

-- A mapping portkeeper asks for over PCP or NAT-PMP, by the declared key. The row, with its
-- nonce, is written before the first request is sent and kept until the mapping is deleted, so
-- that every renewal, the delete, and a retry after a crash use the same nonce (a PCP server
-- refuses another nonce). Renewals update this row in place: they are not revisions.
CREATE TABLE port_control_mapping (
    gateway_id INTEGER NOT NULL REFERENCES gateway(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('TCP', 'UDP')),
    external_port INTEGER NOT NULL CHECK (external_port BETWEEN 1 AND 65535),
    remote_host TEXT NOT NULL DEFAULT '',
    via TEXT NOT NULL CHECK (via IN ('pcp', 'natpmp')),
    -- 24 hexadecimal digits; NAT-PMP has no nonce, but one is kept in case the gateway learns PCP.
    nonce TEXT NOT NULL CHECK (length(nonce) = 24),
    internal_client TEXT NOT NULL,
    internal_port INTEGER NOT NULL CHECK (internal_port BETWEEN 1 AND 65535),
    -- What the gateway granted at the last answer; NULL until one came.
    assigned_external_port INTEGER CHECK (assigned_external_port BETWEEN 0 AND 65535),
    assigned_external_address TEXT,
    lifetime INTEGER CHECK (lifetime >= 0),
    granted TEXT,
    expires TEXT,
    PRIMARY KEY (gateway_id, protocol, external_port, remote_host)
);
