// The practice page: the own camera picture, a microphone level bar and a test tone. Needs no server.
"use strict";

window.practice = {video: false, audio: false, error: null, level: 0};

// The kiosk's language: its words come in the fragment (kiosk/web/practiceview.py); German when there are none.
function words() {
  const german = {lang: "de", tone: "Ton abspielen", microphone: "Mikrofon",
                  nodevice: "Keine Kamera oder kein Mikrofon gefunden ({error})."};
  try {
    return Object.assign(german, JSON.parse(decodeURIComponent(location.hash.slice(1))));
  } catch (e) {
    return german;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const w = words();
  document.documentElement.lang = w.lang;
  document.getElementById("tone").textContent = w.tone;
  document.getElementById("meter").setAttribute("aria-label", w.microphone);
});

async function start() {
  const status = document.getElementById("status");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  } catch (e) {
    window.practice.error = e.name;
    status.textContent = words().nodevice.replace("{error}", e.name);
    return;
  }
  document.getElementById("me").srcObject = stream;
  window.practice.video = stream.getVideoTracks().length > 0;
  window.practice.audio = stream.getAudioTracks().length > 0;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  const bar = document.getElementById("level");
  const draw = () => {
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const s of samples) peak = Math.max(peak, Math.abs(s - 128));
    window.practice.level = peak / 128;
    bar.style.height = Math.min(100, Math.round(window.practice.level * 140)) + "%";
    requestAnimationFrame(draw);
  };
  draw();
  document.getElementById("tone").onclick = () => {
    const tone = context.createOscillator();
    const gain = context.createGain();
    gain.gain.value = 0.3;
    tone.frequency.value = 523;
    tone.connect(gain).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 1.0);
  };
}

document.addEventListener("DOMContentLoaded", start);
