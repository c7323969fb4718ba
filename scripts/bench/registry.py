#!/usr/bin/env python3
"""Reads and fills portkeeper registries for scripts/bench.sh, never disturbing the original.

Every read works on a copy of the database and its -wal file (taken while no portkeeper runs):
a Python connection that closes last would checkpoint and delete the -wal file, and the next
portkeeper open would then write, which is exactly what the benchmark must not cause.

  registry.py counts DB                 JSON {tables: {name: rows}, bytes: size after TRUNCATE checkpoint}
  registry.py diff BEFORE.json AFTER.json   one line: row and size differences
  registry.py ops DB REVISION           AddPortMapping operations of a revision: "total ok"
  registry.py fill SRC DST N            DST = copy of SRC grown to N revisions (copies of SRC's own, in order)
  registry.py stats SECONDS...          "mean s ± sd (min, max, n runs)"
"""
import datetime
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile


def copy(db, directory):
    target = os.path.join(directory, "copy.sqlite")
    shutil.copyfile(db, target)
    if os.path.exists(db + "-wal"):
        shutil.copyfile(db + "-wal", target + "-wal")
    return target


def with_copy(db, body):
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(copy(db, directory))
        try:
            return body(connection, directory)
        finally:
            connection.close()


def counts(db):
    def body(c, directory):
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        tables = {n: c.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        return {"tables": tables, "bytes": os.path.getsize(os.path.join(directory, "copy.sqlite"))}
    print(json.dumps(with_copy(db, body)))


def diff(before_path, after_path):
    before, after = json.load(open(before_path)), json.load(open(after_path))
    names = sorted(set(before["tables"]) | set(after["tables"]))
    changed = [(n, after["tables"].get(n, 0) - before["tables"].get(n, 0)) for n in names]
    changed = [(n, d) for n, d in changed if d]
    rows = sum(d for _, d in changed)
    detail = ", ".join(f"{n} {d:+d}" for n, d in changed) or "no table changed"
    size = after["bytes"] - before["bytes"]
    print(f"{rows:+d} rows ({detail}); file {size:+d} B ({before['bytes']} → {after['bytes']} B after checkpoint)")


def ops(db, revision):
    def body(c, _):
        return c.execute("SELECT count(*), coalesce(sum(outcome = 'ok'), 0) FROM operation WHERE revision_id = ? AND action = 'AddPortMapping'",
                         (int(revision),)).fetchone()
    total, ok = with_copy(db, body)
    print(total, ok)


def fill(src, dst, n):
    n = int(n)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(dst + suffix):
            os.remove(dst + suffix)
    shutil.copyfile(src, dst)
    if os.path.exists(src + "-wal"):
        shutil.copyfile(src + "-wal", dst + "-wal")
    c = sqlite3.connect(dst)
    templates = c.execute("SELECT command, actor, gateway_id, summary, changes FROM revision ORDER BY id").fetchall()
    if not templates:
        sys.exit("fill: the source registry has no revision to copy")
    existing = c.execute("SELECT count(*) FROM revision").fetchone()[0]
    # After the newest real revision, one second apart, in the registry's own time format.
    last = c.execute("SELECT max(time) FROM revision").fetchone()[0]
    start = datetime.datetime.fromisoformat(last[:19])
    def rows():
        for i in range(max(0, n - existing)):
            t = (start + datetime.timedelta(seconds=i + 1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            command, actor, gateway_id, summary, changes = templates[i % len(templates)]
            yield (t, command, actor, gateway_id, summary, changes)
    with c:
        c.executemany("INSERT INTO revision (time, command, actor, gateway_id, summary, changes) VALUES (?, ?, ?, ?, ?, ?)", rows())
    total = c.execute("SELECT count(*) FROM revision").fetchone()[0]
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    c.close()
    print(total, os.path.getsize(dst))


def stats(values):
    xs = [float(v) for v in values]
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    print(f"{statistics.mean(xs):.3f} s ± {sd:.3f} (min {min(xs):.3f}, max {max(xs):.3f}, {len(xs)} runs)")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"counts": counts, "diff": diff, "ops": ops, "fill": fill, "stats": lambda *v: stats(v)}[command](*args)
