"""Offline voice and avatar jobs per minute through the processing queue, against
the same espeak-ng / ffmpeg commands run directly.

`python -m tests.bench media [--rounds 3] [--voice-jobs 3] [--avatar-jobs 1] [--keep]`

* candidate: `speech_generate` / `avatar_video_generate` (the API's services):
  the content row and the queue job in one transaction with a credit hold, the
  task sent to the real Redis broker on commit, then what the worker does with
  it (`job_execute`, run here: no worker process competes for the 2 cores):
  the job claimed in its provider pool,
  the media gateway (shut-off check, usage record), the offline engine, the file
  saved to storage, the row completed and the hold settled;
* reference: the tools alone on a temp folder: `espeak-ng -w speech.wav`, then
  ffmpeg to MP3 (voice); the same, then the mouth-flap render (ffmpeg decoding
  the speech, four Pillow frames, ffmpeg's concat demuxer to H.264/AAC) for the
  avatar.

Same script, same photo, same output size (MEDIA_OFFLINE_VIDEO_SIZE), interleaved
A B / B A round by round. Embedded services under AIPLATFORM_DATA_DIR (default
`.data/bench-media`). The last line is one JSON object (see
/work/shared/BENCHMARKS.md) with the worst ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL = 0.8
SCRIPT = (
    "Stop scrolling. Here is the one habit that doubled my output this year: "
    "I write the first line of tomorrow's work before I close the laptop."
)


def _setup_django() -> None:
    os.environ.setdefault("AIPLATFORM_DATA_DIR", str(REPO / ".data" / "bench-media"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "aiplatform.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("MEDIA_VOICE_PROVIDER", "offline")
    os.environ.setdefault("MEDIA_AVATAR_PROVIDER", "offline")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (720, 960), (214, 180, 160))
    ImageDraw.Draw(image).ellipse((210, 180, 510, 620), fill=(232, 196, 176))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _build(workdir: Path):
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, User
    from accounts.services.accounts import account_create
    from accounts.tenancy.roles import as_owner
    from billing.services.ledger import wallet_credit
    from canvas.services.avatar import avatar_model_create
    from canvas.services.voice import Upload, voice_model_create

    call_command("migrate", verbosity=0)
    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    owner = User.objects.create_user("bench-media@example.com")
    account = account_create(name="media bench", owner=owner)
    wallet_credit(account=account, amount="1000000", type="bonus", description="bench funds")
    from accounts.tenancy.context import account_context

    with account_context(account.id):
        membership = Membership.objects.get(account=account, user=owner)
    sample = workdir / "sample.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f3", "-p", "65", "-w", str(sample), SCRIPT], check=True)
    voice = voice_model_create(account=account, actor=membership, name="Bench voice",
                               samples=[Upload("sample.wav", sample.read_bytes(), "audio/wav")])  # fmt: skip
    avatar = avatar_model_create(account=account, actor=membership, name="Bench avatar",
                                 photos=[Upload("face.png", _photo(), "image/png")])  # fmt: skip
    return account, membership, voice, avatar


# --- the two sides -------------------------------------------------------------------------------


def _reference_voice(workdir: Path, voice_spec: tuple[str, int | None]) -> Path:
    from django.conf import settings

    from aiplatform.ai.media.tools import ffmpeg_exe

    wav, mp3 = workdir / "speech.wav", workdir / "speech.mp3"
    voice, pitch = voice_spec
    args = ["espeak-ng", "-v", voice, "-s", str(settings.MEDIA_ESPEAK_RATE)]
    args += ["-p", str(pitch)] if pitch is not None else []
    subprocess.run([*args, "-w", str(wav), "--stdin"], input=SCRIPT.encode(), check=True, capture_output=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a",
                    "64k", str(mp3)], check=True, capture_output=True)  # fmt: skip
    return mp3


def _reference_avatar(workdir: Path, voice_spec, photo: Path) -> Path:
    from django.conf import settings

    from aiplatform.ai.media.base import VideoRequest
    from aiplatform.ai.media.offline import render_mouth_flap

    mp3 = _reference_voice(workdir, voice_spec)
    width, height = (int(v) for v in settings.MEDIA_OFFLINE_VIDEO_SIZE.split("x"))
    path, _ = render_mouth_flap(VideoRequest(avatar_id="", audio=mp3, workdir=workdir, photo=photo, width=width,
                                             height=height))  # fmt: skip
    return path


def _candidate(kind: str, ctx) -> None:
    from accounts.tenancy.context import account_context
    from canvas.models import GeneratedContent
    from canvas.services.media import avatar_video_generate, speech_generate
    from canvas.services.queue import job_execute

    account, membership, voice, avatar = ctx
    if kind == "voice":
        content = speech_generate(account=account, actor=membership, voice=voice, text=SCRIPT)
    else:
        content = avatar_video_generate(account=account, actor=membership, avatar=avatar, voice=voice, text=SCRIPT)
    # What the worker does with the task the commit sent (the broker is real; no worker runs here).
    job_execute(store="canvas", job_id=content.metadata["job_id"], account_id=str(account.id), task_id="bench")
    with account_context(account.id):
        content = GeneratedContent.objects.get(pk=content.pk)
    if content.generation_status != "completed":
        raise SystemExit(f"candidate {kind} job did not complete: {content.generation_status} {content.error_message}")


def _timed(fn, jobs: int) -> float:
    """Jobs per minute of `jobs` back-to-back runs of `fn`."""
    started = time.perf_counter()
    for _ in range(jobs):
        fn()
    return jobs * 60 / (time.perf_counter() - started)


def _bench(args) -> dict:
    from aiplatform.ai.media.offline import Offline, voice_spec

    reason = Offline().unavailable_reason()
    if reason:
        raise SystemExit(f"the offline media engine is unavailable: {reason}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-media-"))
    t0 = time.perf_counter()
    ctx = _build(tmp)
    spec = voice_spec(ctx[2].provider_voice_id)
    photo = tmp / "face.png"
    photo.write_bytes(_photo())
    print(f"# built account, voice {ctx[2].provider_voice_id} and avatar in {time.perf_counter() - t0:.1f}s; "
          f"machine shared (2 cores), load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip

    def reference(kind):
        def run():
            with tempfile.TemporaryDirectory(dir=tmp) as work:
                if kind == "voice":
                    _reference_voice(Path(work), spec)
                else:
                    _reference_avatar(Path(work), spec, photo)

        return run

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cases = {"voice": args.voice_jobs, "avatar": args.avatar_jobs}
    statements = {}
    for kind in cases:  # warm up both sides once; count the candidate's SQL statements per job
        reference(kind)()
        with CaptureQueriesContext(connection) as captured:
            _candidate(kind, ctx)
        statements[kind] = len(captured.captured_queries)
        print(f"# {kind}: one job through the queue sends {statements[kind]} SQL statements", flush=True)
    results = {}
    for kind, jobs in cases.items():
        ratios, refs, cands = [], [], []
        for rnd in range(args.rounds):
            order = ("reference", "candidate") if rnd % 2 == 0 else ("candidate", "reference")
            rates = {}
            for side in order:
                fn = reference(kind) if side == "reference" else (lambda kind=kind: _candidate(kind, ctx))
                rates[side] = _timed(fn, jobs)
            refs.append(rates["reference"])
            cands.append(rates["candidate"])
            ratios.append(rates["candidate"] / rates["reference"])
            print(f"{kind} round {rnd + 1}: reference {rates['reference']:.1f}/min, candidate "
                  f"{rates['candidate']:.1f}/min, ratio {ratios[-1]:.3f}", flush=True)  # fmt: skip
        results[kind] = {
            "reference": statistics.median(refs), "candidate": statistics.median(cands),
            "ratio": statistics.median(ratios),
        }  # fmt: skip
        print(f"{kind}: {jobs} job(s) a side per round, median reference {results[kind]['reference']:.1f} jobs/min, "
              f"candidate {results[kind]['candidate']:.1f} jobs/min, ratio {results[kind]['ratio']:.3f}",
              flush=True)  # fmt: skip
    worst = min(results, key=lambda k: results[k]["ratio"])
    return {
        "bench": "media", "metric": f"offline {worst} jobs per minute through the queue",
        "value": round(results[worst]["candidate"], 2), "reference": round(results[worst]["reference"], 2),
        "ratio": round(results[worst]["ratio"], 3), "goal": GOAL,
        "voice_ratio": round(results["voice"]["ratio"], 3), "avatar_ratio": round(results["avatar"]["ratio"], 3),
        "voice_per_min": round(results["voice"]["candidate"], 1),
        "avatar_per_min": round(results["avatar"]["candidate"], 1),
        "voice_statements_per_job": statements["voice"], "avatar_statements_per_job": statements["avatar"],
    }  # fmt: skip


def _cleanup(stop: bool) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.tenancy.roles import as_owner

    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    connection.close()
    if stop and getattr(settings, "EMBEDDED_SERVICES", False):
        from aiplatform import embedded

        embedded.stop(settings.DATA_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench media", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per case (default 3)")
    parser.add_argument("--voice-jobs", type=int, default=3, help="voice jobs a side per round (default 3)")
    parser.add_argument("--avatar-jobs", type=int, default=1, help="avatar jobs a side per round (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)
    _setup_django()
    try:
        result = _bench(args)
    finally:
        if not args.keep:
            _cleanup(stop=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
