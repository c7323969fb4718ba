#!/usr/bin/env python3
"""Every public declaration of the library products' modules has a /// doc comment.

Reads the Swift sources (not the compiler's view: a heuristic over lines), so it runs in a
second. A declaration counts as documented when a `///` line comes right before it or before
its attributes. What a protocol already documents (==, hash(into:), description,
Codable's init(from:) and encode(to:), GRDB's conversions) is left out. Exits 1 naming each
declaration without one.
"""
import glob
import re
import sys

MODULES = ["PortKeeper", "PortKeeperModel", "MappingRegistry", "IGDClient", "IGDProtocol", "PCPProtocol"]
DECLARATION = re.compile(r"(@\w+(\(.*\))?\s+)*(public|open)\s")
CASE = re.compile(r"(indirect )?case [a-zA-Z`]")
INHERITED = re.compile(r"public (static )?func (==|<|hash\(into|encode\(to)|public init\(from decoder|"
                       r"public var (debugD|d)escription: String|public static func fromDatabaseValue|public var databaseValue")

missing = []
for module in MODULES:
    for path in sorted(glob.glob(f"Sources/{module}/**/*.swift", recursive=True)):
        lines = open(path, encoding="utf-8").read().split("\n")
        public_enum_depth = None
        for number, line in enumerate(lines):
            text = line.strip()
            is_declaration = DECLARATION.match(text) and not text.startswith(("public import", "public extension"))
            # An enum's cases: only in a public enum's body, not a switch (no trailing colon).
            is_case = (CASE.match(text) and not text.endswith(":") and " where " not in text
                       and not re.match(r"case (let|var) ", text) and "->" not in text and "return" not in text
                       and "append" not in text and "=" not in text.split("//")[0].replace('= "', "").replace("=\"", ""))
            if is_case:
                # Only cases of a public enum: find the nearest enclosing `enum` line above.
                above = next((lines[k].strip() for k in range(number - 1, -1, -1) if re.search(r"\benum \w+", lines[k])), "")
                is_case = above.startswith("public") or "public enum" in above
            if not (is_declaration or is_case) or INHERITED.search(text):
                continue
            before = number - 1
            while before >= 0 and lines[before].strip().startswith("@"):
                before -= 1
            if before >= 0 and lines[before].strip().startswith("///"):
                continue
            missing.append(f"{path}:{number + 1}: {text[:100]}")

if missing:
    print("public declarations without a /// doc comment:", file=sys.stderr)
    print("\n".join(missing), file=sys.stderr)
    sys.exit(1)
print(f"doc-coverage: every public declaration of {', '.join(MODULES)} is documented")
