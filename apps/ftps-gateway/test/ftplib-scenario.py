"""Drives the gateway with the standard library's ftplib (stock FTP_TLS: no TLS session reuse)."""
import hashlib
import io
import json
import os
import socket
import ssl
import sys
from ftplib import FTP, FTP_TLS

port, mode, cafile, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False


class ImplicitFTP_TLS(FTP_TLS):
    """Implicit FTPS is not built in: wrap the socket before reading the greeting."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        self.host, self.port = host, port
        raw = socket.create_connection((host, port), 30)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


if mode == "plain":
    ftp = FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login("u", "p")
elif mode == "implicit":
    ftp = ImplicitFTP_TLS(context=context)
    ftp.connect("127.0.0.1", port)
    ftp.login("u", "p")
    ftp.prot_p()
else:
    ftp = FTP_TLS(context=context)
    ftp.connect("127.0.0.1", port)
    ftp.auth()
    ftp.login("u", "p")
    ftp.prot_p()

out = {}
data = os.urandom(300_000)
ftp.mkd(work)
ftp.cwd(work)
ftp.mkd("sub £ 😀")
ftp.storbinary("STOR sub £ 😀/file £.bin", io.BytesIO(data[:100_000]))
# resume the upload: REST 100000 + STOR
ftp.storbinary("STOR sub £ 😀/file £.bin", io.BytesIO(data[100_000:]), rest=100_000)
out["size"] = ftp.size("sub £ 😀/file £.bin")
buf = io.BytesIO()
ftp.retrbinary("RETR sub £ 😀/file £.bin", buf.write)
out["same"] = buf.getvalue() == data
buf = io.BytesIO()
ftp.retrbinary("RETR sub £ 😀/file £.bin", buf.write, rest=250_000)
out["tail_same"] = buf.getvalue() == data[250_000:]
ftp.rename("sub £ 😀", "renamed")
out["nlst"] = sorted(ftp.nlst())
out["mlsd"] = sorted((name, facts["type"]) for name, facts in ftp.mlsd("renamed"))
lines = []
ftp.retrlines("LIST renamed", lines.append)
out["list"] = lines
ftp.delete("renamed/file £.bin")
ftp.rmd("renamed")
ftp.cwd("..")
ftp.rmd(work)
out["pwd"] = ftp.pwd()
ftp.quit()
print(json.dumps(out))
