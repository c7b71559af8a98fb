#!/usr/bin/python3
"""python3-hl7's asyncio MLLP server (hl7.mllp.start_hl7_server) on 127.0.0.1, port 0 (or
argv[1]): parses each message and answers the AA that hl7.Message.create_ack builds (MSA-2 =
MSH-10); stores nothing. Run it with Debian's /usr/bin/python3, which has python3-hl7.
"""
import asyncio
import signal
import sys

import hl7
from hl7.mllp import start_hl7_server


async def serve(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            writer.writemessage(message.create_ack("AA"))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = await start_hl7_server(serve, "127.0.0.1", port, limit=1024 * 1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"python3-hl7 {hl7.__version__}: listening on 127.0.0.1:{bound} (MLLP)", flush=True)
    print("python3-hl7: ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
