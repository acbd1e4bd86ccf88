#!/usr/bin/env python3
"""echo_server and load_client together, as README shows them, plus peers that misbehave.

usage: check_echo_round_trip.py ECHO_SERVER LOAD_CLIENT

Checks: the server names its port; a second server on that port exits 1 saying why; the load
client verifies every byte (exit 0) while other peers reset mid-message, half-close, and send
1 MiB without reading; a half-closed peer still gets all its bytes back; SIGTERM closes every
connection and the server exits 0.
"""
import signal
import socket
import struct
import subprocess
import sys
import threading

server_program, client_program = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED: " + message, file=sys.stderr)


server = subprocess.Popen([server_program, "--port=0", "--workers=2", "--idle-timeout=3"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
first_line = server.stdout.readline()
check(first_line.startswith("listening on 127.0.0.1:"), "first line names the port: " + first_line)
port = int(first_line.strip().rsplit(":", 1)[1])

# A second server on the same port.
second = subprocess.run([server_program, "--port=%d" % port], capture_output=True, text=True,
                        timeout=60)
check(second.returncode == 1, "a port in use exits 1, got %d" % second.returncode)
check("cannot listen on 127.0.0.1:%d" % port in second.stderr,
      "a port in use is named on stderr: " + second.stderr)


def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=60)


def resetting_peer():
    s = connect()
    s.sendall(b"half a mess")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST


def half_closing_peer(results):
    s = connect()
    payload = bytes(range(256)) * 1024
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    echoed = bytearray()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        echoed += chunk
    s.close()
    results.append(bytes(echoed) == payload)


def flooding_peer():
    # Sends 1 MiB and never reads: the server's writes back stall, and its idle timeout ends it.
    s = connect()
    try:
        s.sendall(b"\x5a" * (1 << 20))
    except OSError:
        pass  # the server gave up on us first
    s.close()


half_closed = []
peers = [threading.Thread(target=resetting_peer) for _ in range(3)]
peers += [threading.Thread(target=half_closing_peer, args=(half_closed,)) for _ in range(2)]
peers += [threading.Thread(target=flooding_peer) for _ in range(2)]
for p in peers:
    p.start()

client = subprocess.run([client_program, "--port=%d" % port, "--connections=20",
                         "--messages=200", "--size=100", "--workers=2", "--timeout=120"],
                        capture_output=True, text=True, timeout=300)
check(client.returncode == 0, "load_client exits 0, got %d: %s" % (client.returncode, client.stderr))
check("every byte verified" in client.stdout, "load_client reports: " + client.stdout)
print(client.stdout.strip())

for p in peers:
    p.join(120)
check(half_closed == [True, True], "half-closed peers got every byte back: %s" % half_closed)

# Graceful shutdown with connections open.
idle = [connect() for _ in range(3)]
server.send_signal(signal.SIGTERM)
try:
    out, err = server.communicate(timeout=120)
except subprocess.TimeoutExpired:
    server.kill()
    out, err = server.communicate()
    check(False, "the server did not exit after SIGTERM")
check(server.returncode == 0, "SIGTERM: exit 0, got %s; stderr: %s" % (server.returncode, err))
check("SIGTERM, closing every connection" in out, "the server says it shuts down: " + out)
for s in idle:
    s.settimeout(60)
    try:
        check(s.recv(16) == b"", "an open connection is closed at shutdown")
    except ConnectionResetError:
        pass  # closed too
    s.close()
print(out.strip())

if failures:
    sys.exit(1)
print("echo round trip: ok")
