#!/usr/bin/python3
"""A real RTSP server for the system tests: GStreamer's RTSP server
(Debian has no live555 server package) serving a live H.264 test picture on
the given mounts, and with --audio a 440 Hz AAC tone beside it (what a
provider's streaming server sends). Prints "ready rtsp://ADDR:PORT" once it
listens, stops on SIGTERM or SIGINT.

    media_server.py --address 127.1.200.1 --port 8554 --mount /www.abc.com/news
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Small and cheap: the tests run on two cores next to the daemons.
PIPELINE = ("( videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=10/1 "
            "! x264enc tune=zerolatency speed-preset=ultrafast bitrate=128 key-int-max=10 "
            "! rtph264pay name=pay0 pt=96 config-interval=1 )")
AUDIO = ("audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample "
         "! audio/x-raw,rate=48000,channels=1 ! {encoder} bitrate=64000 "
         "! rtpmp4gpay name=pay1 pt=97")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", required=True)
    parser.add_argument("--audio", action="store_true", help="an AAC tone beside the picture")
    args = parser.parse_args()

    Gst.init(None)
    if Gst.ElementFactory.find("x264enc") is None:
        print("error x264enc missing (gstreamer1.0-plugins-ugly)", flush=True)
        return 1
    pipeline = PIPELINE
    if args.audio:
        encoder = next((e for e in ("avenc_aac", "voaacenc") if Gst.ElementFactory.find(e)), None)
        if encoder is None:
            print("error no AAC encoder (gstreamer1.0-libav)", flush=True)
            return 1
        pipeline = PIPELINE[:-1] + AUDIO.format(encoder=encoder) + " )"
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for path in args.mount:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(pipeline)
        factory.set_shared(True)
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        print(f"error cannot listen on {args.address}:{args.port}", flush=True)
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"ready rtsp://{args.address}:{args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
