import IGDProtocol

/// Writes parsed SSDP messages back as datagrams, for the round-trip checks.
public enum SSDPWriter {
    public static func searchResponse(_ response: SSDP.SearchResponse) -> [UInt8] {
        var text = "HTTP/1.1 200 OK\r\n"
        text += "ST: \(response.searchTarget)\r\n"
        text += "USN: \(response.usn)\r\n"
        text += "LOCATION: \(response.location)\r\n"
        if let server = response.server { text += "SERVER: \(server)\r\n" }
        if let bootID = response.bootID { text += "BOOTID.UPNP.ORG: \(bootID)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    public static func notify(_ notify: SSDP.Notify) -> [UInt8] {
        var text = "NOTIFY * HTTP/1.1\r\n"
        text += "NT: \(notify.notificationType)\r\n"
        text += "NTS: \(notify.kind.rawValue)\r\n"
        text += "USN: \(notify.usn)\r\n"
        if let location = notify.location { text += "LOCATION: \(location)\r\n" }
        if let bootID = notify.bootID { text += "BOOTID.UPNP.ORG: \(bootID)\r\n" }
        return Array((text + "\r\n").utf8)
    }
}
