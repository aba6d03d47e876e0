"""Drives the gateway's SFTP listener with paramiko (password login); prints one JSON line."""
import hashlib
import io
import json
import os
import sys

import paramiko

port, host_key_file, login, password, scenario = sys.argv[1:6]
host_key = paramiko.Ed25519Key.from_private_key_file(host_key_file)


def connect(pw):
    transport = paramiko.Transport(("127.0.0.1", int(port)))
    transport.connect(hostkey=host_key, username=login, password=pw)
    return transport, paramiko.SFTPClient.from_transport(transport)


def failure(fn):
    try:
        fn()
    except (IOError, OSError) as error:
        return str(error)
    return None


def close_reporting(f):
    """paramiko's close() swallows a failed CLOSE; send it ourselves to see the server's answer."""
    f.flush()
    f._closed = True
    f.sftp._request(paramiko.sftp.CMD_CLOSE, f.handle)


if scenario == "login":
    try:
        connect(password)
        print(json.dumps({"refused": False}))
    except paramiko.AuthenticationException:
        print(json.dumps({"refused": True}))
    sys.exit(0)

transport, sftp = connect(password)
out = {}
if scenario == "files":
    data = os.urandom(300_000)
    sftp.mkdir("py")
    sftp.putfo(io.BytesIO(data), "py/a.bin")
    out["size"] = sftp.stat("py/a.bin").st_size
    sftp.chmod("py/a.bin", 0o600)
    sftp.utime("py/a.bin", (1_000_000, 1_000_000))
    sftp.posix_rename("py/a.bin", "py/b.bin")
    out["listing"] = sorted(sftp.listdir("py"))
    back = io.BytesIO()
    sftp.getfo("py/b.bin", back)
    out["same"] = hashlib.sha256(back.getvalue()).digest() == hashlib.sha256(data).digest()
    with sftp.open("py/b.bin", "rb") as f:
        f.seek(250_000)
        out["tail_same"] = f.read(50_000) == data[250_000:]
    out["realpath"] = sftp.normalize("py/../py/./b.bin")
    sftp.remove("py/b.bin")
    sftp.rmdir("py")
    out["after"] = sftp.listdir("/")
elif scenario in ("hole", "rewrite"):
    # A hole: bytes far past the end; a rewrite: back to offset 0 after 1000 bytes went out.
    first, seek_to = (10, 3_000_000) if scenario == "hole" else (1000, 0)
    name = f"{scenario}.bin"

    def upload():
        f = sftp.open(name, "wb")
        f.write(b"x" * first)
        f.flush()
        f.seek(seek_to)
        f.write(b"y" * 10)
        close_reporting(f)
    out["error"] = failure(upload)
    out["stat"] = failure(lambda: sftp.stat(name))
elif scenario == "drop":
    # 12 MiB into an upload (more than two 5 MiB S3 parts), then the TCP connection just goes away.
    f = sftp.open("dropped.bin", "wb")
    f.set_pipelined(True)
    for _ in range(12):
        f.write(os.urandom(1 << 20))
    f.flush()
    out["written"] = f.tell()
    transport.sock.close()
    print(json.dumps(out))
    sys.exit(0)
elif scenario == "outside":
    out["root"] = sorted(sftp.listdir("/"))
    out["up"] = sorted(sftp.listdir("/../.."))
    out["secret"] = failure(lambda: sftp.stat("../other/secret.txt"))
    out["realpath"] = sftp.normalize("../../..")
elif scenario == "read-only":
    out["put"] = failure(lambda: sftp.putfo(io.BytesIO(b"no"), "ro.bin"))
    out["mkdir"] = failure(lambda: sftp.mkdir("ro-dir"))
print(json.dumps(out))
transport.close()
