/// Binary datagrams in failure messages, as hexadecimal pairs.
public enum Hex {
    public static func string(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined(separator: " ")
    }
}
