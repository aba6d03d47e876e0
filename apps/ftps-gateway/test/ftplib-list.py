"""Sends each argument as ftplib's NLST (or LIST with a `LIST ` prefix) and prints the answers as JSON."""
import json
import ssl
import sys
from ftplib import FTP_TLS, error_perm

port, cafile, requests = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
ftp = FTP_TLS(context=context)
ftp.connect("127.0.0.1", port)
ftp.login("u", "p")
ftp.prot_p()
answers = {}
for request in requests:
    try:
        if request.startswith("LIST "):
            lines = []
            ftp.retrlines(request, lines.append)
            answers[request] = lines
        else:
            answers[request] = ftp.nlst(request)
    except error_perm as error:
        answers[request] = str(error)
ftp.quit()
print(json.dumps(answers))
