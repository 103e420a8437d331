"""Speech for the voice kiosk: text prepared for the ear, two voices (Google's, and an offline one), an audio cache.

`reading` turns a message into what a voice should say; `voices` synthesises it (gTTS first, pyopenjtalk when
Google does not answer in time); `store` keeps the audio on disk with an SQLite index; `speaker` ties them
together for the hub; `presynthesise` fills the cache with every fixed answer and procedure step.
"""
