"""Uploads a file of <total> MiB over SFTP (paramiko, password login), generating it 1 MiB at a time.

Prints `started` once 16 MiB are in, then `half <size>` (the size the server reports for the open
file) once half is in, and waits there to be killed; the test kills it with SIGKILL.
"""
import os
import sys
import time

import paramiko

port, host_key_file, login, password, name, total_mib = sys.argv[1:7]
total = int(total_mib)
transport = paramiko.Transport(("127.0.0.1", int(port)))
transport.connect(hostkey=paramiko.Ed25519Key.from_private_key_file(host_key_file), username=login, password=password)
sftp = paramiko.SFTPClient.from_transport(transport)
f = sftp.open(name, "wb")
f.set_pipelined(True)
chunk = os.urandom(1 << 20)
for mib in range(total // 2):
    # a fresh first block each MiB, so no two MiB are the same
    f.write(os.urandom(4096) + chunk[4096:])
    if mib == 16:
        print("started", flush=True)
f.flush()
print("half", f.stat().st_size, flush=True)
time.sleep(600)
