/// The longer help of each command: what it does beyond its abstract, and examples.
enum HelpText {
    static let root = """
        Declare mappings once (`add`, or a file with `apply -f`); portkeeper records them in a SQLite \
        registry, makes the router match (`reconcile`), tells what changed and who did it (`history`), \
        undoes an accident (`rollback`) and keeps it all true (`watch`). Discovery sends SSDP multicast \
        (239.255.255.250:1900) on your LAN, and a NAT-PMP and a PCP request to the default gateway \
        (UDP 5351).

        EXIT CODES (the same meaning in every command):
          0   done; in sync
          1   an error (one line on stderr says what happened and what to try)
          2   changes pending (`plan --exit-code`, `reconcile --dry-run --exit-code`)
          3   done, but not in sync: a port held by another client, an operation
              the router refused (stderr says which)
          64  a usage error: an option or value refused, a declaration file to fix,
              a gateway, revision or mapping named that does not exist
          65  the registry is damaged
          75  the registry is busy (another portkeeper holds it); try again
          78  the registry was written by a newer portkeeper

        JSON: --json prints one document (stderr: one JSON line if it fails); every
        document carries "formatVersion": 1; schemas/ in the source holds its schema.

        ENVIRONMENT:
          PORTKEEPER_DB               the registry file (--db; default
                                      $XDG_DATA_HOME/portkeeper/registry.sqlite)
          PORTKEEPER_REQUEST_TIMEOUT  seconds a router may take over one request
                                      (--request-timeout; default 5)
          PORTKEEPER_LOG_LEVEL        trace, debug, info, notice, warning (default),
                                      error or critical
          PORTKEEPER_SSDP_TARGET      IPv4:PORT to send searches to instead of
                                      239.255.255.250:1900 (tests; unicast routers)
          PORTKEEPER_PCP_SERVER       IPv4:PORT of the NAT-PMP/PCP server discovery
                                      probes (default: the default gateway, port
                                      5351), or off; with PORTKEEPER_SSDP_TARGET set
                                      and this unset, no probe is sent
          NOTIFY_SOCKET, WATCHDOG_USEC, JOURNAL_STREAM
                                      set by systemd for `watch` (see its help)
        """

    static let discover = """
        Without --location it sends an SSDP search on every IPv4 interface with multicast (or only \
        --interface) and describes every gateway that answers. At the same time it asks the default \
        gateway (the --location host with --location) over NAT-PMP and PCP, on UDP port 5351. Each \
        gateway is shown once with the protocols it answered, the external address each reports, \
        and the one portkeeper uses: UPnP IGD where it answers (it lists the router's table), else \
        PCP, else NAT-PMP.

        Examples:
          portkeeper discover
          portkeeper discover --location http://192.168.1.1:5000/rootDesc.xml --json
        """

    static let status = """
        Examples:
          portkeeper status
          portkeeper status --gateway uuid:0bd2 --json
        """

    static let list = """
        Reads the router's own table (what upnpc -l shows), changing nothing.

        Examples:
          portkeeper list
          portkeeper list --json --verbose
        """

    static let gateways = """
        Reads the registry only.

        Example:
          portkeeper gateways --json
        """

    static let add = """
        Records the mapping in the registry (a revision `history` shows), then reconciles unless \
        --no-apply.

        Examples:
          portkeeper add 8080/tcp --description "web server"
          portkeeper add 27015/udp --to 192.168.1.20:27016 --lease 3600
          portkeeper add 2222/tcp --to :22 --no-apply
          portkeeper add 8080/tcp --json    # the declaration change and the reconcile, as JSON
        """

    static let remove = """
        Examples:
          portkeeper remove 8080/tcp
          portkeeper remove 27015/udp --no-apply
          portkeeper remove 8080/tcp --json
        """

    static let mappings = """
        Reads the registry only; `portkeeper list` shows what the router has.

        Examples:
          portkeeper mappings
          portkeeper mappings --json
        """

    static let plan = """
        Compares the declaration (or, with -f, a declaration file) with the router's table.

        Examples:
          portkeeper plan
          portkeeper plan --exit-code || echo "changes pending"
          portkeeper plan -f ports.yaml
        """

    static let reconcile = """
        Adds what is missing, puts back what changed, renews leases, and with --prune deletes other \
        programs' entries. Each change is journaled before it is sent.

        Examples:
          portkeeper reconcile
          portkeeper reconcile --dry-run --json
          portkeeper reconcile --dry-run --exit-code || echo "changes pending"
          portkeeper reconcile --force      # take a port another client holds
        """

    static let history = """
        Examples:
          portkeeper history
          portkeeper history --limit 5 --json
        """
}
