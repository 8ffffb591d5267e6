"""The gateway's media interface: voice clones, speech, photo avatars and avatar
video over several providers (ElevenLabs, HeyGen, and an offline engine built
on espeak-ng and ffmpeg), metered like every AI call. Apps call
`aiplatform.ai.media.gateway`; see its docstring for the contract."""
