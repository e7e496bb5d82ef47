// The kiosk's call page: creates the Jitsi IFrame API on request and reports its events to Python.
"use strict";

const EVENTS = [
  "videoConferenceJoined", "videoConferenceLeft", "readyToClose", "participantJoined", "participantLeft",
  "errorOccurred", "cameraError", "micError", "suspendDetected", "browserSupport", "peerConnectionFailure",
];

let kiosk = null;
let api = null;
let apiCallId = 0;
let wantedCallId = 0;
let joinedCallId = 0;
let prepared = null;  // {src, promise}: the IFrame API script, loaded as soon as the page is ready

function send(callId, name, payload) {
  let text = "{}";
  try { text = JSON.stringify(payload === undefined ? {} : payload); } catch (e) { text = "{}"; }
  kiosk.event(callId, name, text);
}

// Loaded afresh for every join (not from the cache) even when a prepared copy lets the call start at once, so a
// server that is down, refuses or answers with an error shows up at once as loadFailed instead of as an empty
// iframe; a server that hangs is given 10 s.
const SCRIPT_TIMEOUT_MS = 10000;

function loadApi(src, callId) {
  const element = document.createElement("script");
  element.src = src + (src.includes("?") ? "&" : "?") + "palim=" + Date.now() + "-" + callId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("external_api.js did not load within 10 s")), SCRIPT_TIMEOUT_MS);
    element.onload = () => {
      clearTimeout(timer);
      if (window.JitsiMeetExternalAPI) resolve(); else reject(new Error("external_api.js has no JitsiMeetExternalAPI"));
    };
    element.onerror = () => { clearTimeout(timer); reject(new Error("external_api.js could not be loaded")); };
    document.head.appendChild(element);
  }).finally(() => element.remove());  // the API stays defined; the tag is not needed any more
}

function dispose() {
  if (!api) return;
  const old = api;
  api = null;
  apiCallId = 0;
  try { old.dispose(); } catch (e) { console.log("dispose failed: " + e); }
  document.getElementById("call").replaceChildren();
}

// Loads the IFrame API ahead of the tap, so the tap does not wait for the script (docs/benchmarks.md).
function prepare(src) {
  const promise = loadApi(src, 0);
  promise.catch(() => {});  // not ready ahead of time: the join loads it itself
  prepared = {src, promise};
}

async function join(callId, options) {
  dispose();
  wantedCallId = callId;
  const fresh = loadApi(options.scriptUrl, callId);
  fresh.catch((e) => {
    // A call that already joined goes on; otherwise the server is not usable now, whatever the prepared copy says.
    if (wantedCallId !== callId || joinedCallId === callId) return;
    wantedCallId = 0;
    if (apiCallId === callId) dispose();
    send(callId, "loadFailed", {reason: String(e.message)});
  });
  // Whichever copy is there first starts the call; only when both fail is there no call (reported above).
  const early = prepared && prepared.src === options.scriptUrl ? prepared.promise : fresh;
  try {
    await Promise.any([early, fresh]);
  } catch (e) {
    return;
  }
  if (wantedCallId !== callId) return;  // hung up, replaced or failed while the script loaded
  const settings = {
    roomName: options.roomName,
    parentNode: document.getElementById("call"),
    width: "100%",
    height: "100%",
    lang: options.lang,
    userInfo: options.userInfo,
    configOverwrite: options.configOverwrite,
    interfaceConfigOverwrite: options.interfaceConfigOverwrite,
  };
  if (options.jwt) settings.jwt = options.jwt;  // the server's login token (Prosody token authentication)
  try {
    api = new window.JitsiMeetExternalAPI(options.domain, settings);
  } catch (e) {
    send(callId, "loadFailed", {reason: "JitsiMeetExternalAPI: " + e});
    return;
  }
  apiCallId = callId;
  api.addListener("videoConferenceJoined", () => { joinedCallId = callId; });
  for (const name of EVENTS) api.addListener(name, (payload) => send(callId, name, payload));
}

function onCommand(text) {
  const command = JSON.parse(text);
  if (command.op === "join") {
    join(command.callId, command.options);
  } else if (command.op === "hangup") {
    if (api && apiCallId === command.callId) api.executeCommand("hangup", false);
  } else if (command.op === "dispose") {
    if (wantedCallId === command.callId) wantedCallId = 0;
    if (api && apiCallId === command.callId) dispose();
  }
}

// The kiosk names the IFrame API script in the page's address (#api=…): it loads while the bridge connects.
const apiAddress = new URLSearchParams(location.hash.slice(1)).get("api");
if (apiAddress) prepare(apiAddress);

new QWebChannel(qt.webChannelTransport, (channel) => {
  kiosk = channel.objects.kiosk;
  kiosk.command.connect(onCommand);
  kiosk.ready();
});

// The kiosk loads this page afresh after every call; the last call's page is gone now but V8 would keep its tens
// of MiB until pressure builds (bench/soak.py: +71 % over 200 calls), so collect them while the home screen shows
// (--js-flags=--expose-gc). This is the one place that collects: dispose() is always followed by a reload.
if (typeof window.gc === "function") setTimeout(() => window.gc(), 0);
