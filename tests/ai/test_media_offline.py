"""The offline media engine really makes media here: speech with espeak-ng as an
MP3, a "voice" fitted to a sample's pitch, and an avatar MP4 from a photo and
that speech, whose durations the probe (libavformat, as ffprobe reads them) confirms."""

from __future__ import annotations

import io
import subprocess
import wave
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from aiplatform.ai.media.base import AvatarCreateRequest, Sample, SpeechRequest, VideoRequest, VoiceCloneRequest
from aiplatform.ai.media.errors import MediaInputInvalid, MediaToolMissing
from aiplatform.ai.media.offline import Offline, voice_spec
from aiplatform.media.ffmpeg import probe

SCRIPT = "Stop scrolling. Here is the one habit that doubled my output this year, and it takes two minutes a day."


def _espeak_wav(tmp_path: Path, voice: str, pitch: int, text: str = SCRIPT) -> bytes:
    path = tmp_path / f"sample-{voice}-{pitch}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True)
    return path.read_bytes()


def _photo(size=(600, 800), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 170, 150)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def engine(settings):
    engine = Offline()
    if engine.unavailable_reason():
        pytest.fail(f"The offline engine must work on the test machine: {engine.unavailable_reason()}")
    return engine


def test_speech_is_an_mp3_whose_duration_the_file_confirms(engine, tmp_path):
    # when
    audio = engine.speech(SpeechRequest(voice_id="en-us+f3:p60", text=SCRIPT, workdir=tmp_path))
    # then
    found = probe(audio.path)
    assert found.audio.codec == "mp3"
    assert 4.0 < audio.duration_seconds < 12.0
    assert found.duration_seconds == pytest.approx(audio.duration_seconds, abs=0.15)
    assert audio.characters == len(SCRIPT) and audio.model == "espeak-ng en-us+f3"
    assert not (tmp_path / "speech.wav").exists()


def test_the_voice_follows_the_speakers_pitch(engine, tmp_path):
    # given: a high and a low speaker
    high = _espeak_wav(tmp_path, "en-us+f3", 80)
    low = _espeak_wav(tmp_path, "en-us+m3", 20)
    # when
    woman = engine.voice_clone(VoiceCloneRequest(name="A", samples=(Sample("a.wav", high, "audio/wav"),)))
    man = engine.voice_clone(VoiceCloneRequest(name="B", samples=(Sample("b.wav", low, "audio/wav"),)))
    # then
    assert voice_spec(woman.voice_id)[0] == "en-us+f3" and voice_spec(man.voice_id)[0] == "en-us+m3"
    assert voice_spec(woman.voice_id)[1] > 50 > voice_spec(man.voice_id)[1]
    # a few seconds of sample is far from the minute a good clone needs
    assert Decimal("0") < woman.quality_score < Decimal("0.5") and woman.sample_seconds > 4


def test_silence_is_not_a_voice_sample(engine, tmp_path):
    # given: two seconds of silence as a WAV
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 32000)
    # when
    with pytest.raises(MediaInputInvalid) as caught:
        engine.voice_clone(VoiceCloneRequest(name="A", samples=(Sample("s.wav", silence.read_bytes()),)))
    # then
    assert caught.value.code == "sample_too_short"


def test_a_file_that_is_not_audio(engine):
    with pytest.raises(MediaInputInvalid, match="is not audio we can read"):
        engine.voice_clone(VoiceCloneRequest(name="A", samples=(Sample("notes.txt", b"just some text"),)))


def test_an_avatar_needs_a_readable_photo_of_200px(engine):
    ok = engine.avatar_create(AvatarCreateRequest(name="A", photo=Sample("p.jpg", _photo(fmt="JPEG"))))
    assert ok.avatar_id.startswith("offline-") and ok.quality_score == Decimal("0.83")
    with pytest.raises(MediaInputInvalid, match="at least 200 px"):
        engine.avatar_create(AvatarCreateRequest(name="A", photo=Sample("p.png", _photo((150, 400)))))
    with pytest.raises(MediaInputInvalid, match="not a photo"):
        engine.avatar_create(AvatarCreateRequest(name="A", photo=Sample("p.png", b"\x89PNG broken")))


def test_the_avatar_video_is_an_h264_aac_mp4_as_long_as_the_speech(engine, tmp_path):
    # given
    audio = engine.speech(SpeechRequest(voice_id="en-us+m3", text=SCRIPT, workdir=tmp_path))
    photo = tmp_path / "face.png"
    photo.write_bytes(_photo())
    # when
    job = engine.video_start(VideoRequest(avatar_id="offline-x", audio=audio.path, workdir=tmp_path, photo=photo,
                                          width=360, height=640, callback_id="job-1"))  # fmt: skip
    # then
    assert job.done and job.video_id == "job-1"
    found = probe(job.path)
    assert found.video.codec == "h264" and found.audio.codec == "aac"
    assert (found.width, found.height) == (360, 640)
    assert found.duration_seconds == pytest.approx(audio.duration_seconds, abs=0.25)
    assert job.duration_seconds == pytest.approx(audio.duration_seconds, abs=0.1)


def test_the_mouth_moves_with_the_speech(engine, tmp_path):
    # given
    audio = engine.speech(SpeechRequest(voice_id="en-us", text="One. Two. Three.", workdir=tmp_path))
    photo = tmp_path / "face.png"
    photo.write_bytes(_photo())
    job = engine.video_start(VideoRequest(avatar_id="x", audio=audio.path, workdir=tmp_path, photo=photo,
                                          width=360, height=640))  # fmt: skip
    # when: the mouth region of the frames, one every 40 ms
    import imageio_ffmpeg

    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(job.path), "-vf",
                          "crop=80:60:140:380", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout  # fmt: skip
    frames = [raw[i : i + 4800] for i in range(0, len(raw), 4800)]
    darkness = {sum(b < 110 for b in frame) // 100 for frame in frames}
    # then: open and closed mouths differ
    assert len(darkness) >= 3


def test_without_espeak_the_engine_says_how_to_install_it(settings, tmp_path):
    # given
    settings.MEDIA_ESPEAK_BINARY = "espeak-ng-not-installed"
    # when
    reason = Offline().unavailable_reason()
    with pytest.raises(MediaToolMissing) as caught:
        Offline().speech(SpeechRequest(voice_id="en-us", text="Hi.", workdir=tmp_path))
    # then
    assert "apt-get install espeak-ng" in reason
    assert "apt-get install espeak-ng" in caught.value.message and caught.value.status == 503
