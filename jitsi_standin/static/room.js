/* The stand-in's room page: joins "the conference" with the local camera and microphone and speaks the
 * IFrame API towards its parent. Written from the public contract; no Jitsi code. */
(function () {
    'use strict';

    var TAG = 'palim-jitsi-standin';  // must match external_api.js
    var POLL_WAIT_MS = 1000;          // the server holds a poll this long when nothing is queued
    var RETRY_MS = 200;
    // The poll is the stand-in's signalling connection: when it fails this often in a row the server is gone, and
    // the room reports a fatal connection error as Jitsi does when its XMPP connection drops.
    var POLL_FAILURES_FATAL = 5;
    var pollFailures = 0;

    var room = decodeURIComponent(location.pathname.slice(1));
    var query = new URLSearchParams(location.search);
    var embedded = window.parent !== window;
    // Like Jitsi, apply only the overrides on its whitelists (served by the stand-in as whitelist.js) and drop the
    // rest without a word to the embedder; the report names them, so tests see what a real server would ignore.
    var dropped = [];
    var offered = parseHash(location.hash);
    var params = {
        config: applyWhitelist('config', offered.config),
        interfaceConfig: applyWhitelist('interfaceConfig', offered.interfaceConfig),
        userInfo: offered.userInfo
    };
    var config = params.config;
    var participantId = Math.random().toString(16).slice(2, 10);
    var stream = null;
    var audioMuted = Boolean(config.startWithAudioMuted);
    var videoMuted = Boolean(config.startWithVideoMuted);
    var remoteParticipants = {};
    var left = false;
    var reportChain = Promise.resolve();

    /* Jitsi reads "#config.a.b=<JSON>&…" by splitting on "&" and "=" and decoding each value with
     * decodeURIComponent; URLSearchParams would also turn "+" into a space, hiding encoding bugs of the embedder. */
    function parseHash(hash) {
        var result = { config: {}, interfaceConfig: {}, userInfo: {} };
        hash.replace(/^#/, '').split('&').forEach(function (pair) {
            if (!pair) {
                return;
            }
            var eq = pair.indexOf('=');
            var key = eq < 0 ? pair : pair.slice(0, eq);
            var raw = eq < 0 ? '' : pair.slice(eq + 1);
            var path = key.split('.');
            var root = path.shift();
            if (!(root in result) || path.length === 0) {
                return;
            }
            var value;
            try {
                value = JSON.parse(decodeURIComponent(raw));
            } catch (error) {
                value = decodeURIComponent(raw);  // Jitsi keeps a value that is not JSON as a string
            }
            var target = result[root];
            path.slice(0, -1).forEach(function (part) {
                if (typeof target[part] !== 'object' || target[part] === null) {
                    target[part] = {};
                }
                target = target[part];
            });
            target[path[path.length - 1]] = value;
        });
        return result;
    }

    function isAllowed(path, whitelist) {
        // A whitelisted key "a.b" allows "a.b" and everything under it.
        return whitelist.some(function (key) { return path === key || path.indexOf(key + '.') === 0; });
    }

    function applyWhitelist(root, values) {
        var whitelist = window.PALIM_STANDIN_WHITELISTS[embedded ? 'embedded' : 'top'][root];
        var applied = {};
        (function walk(source, target, prefix) {
            Object.keys(source).forEach(function (key) {
                var value = source[key];
                var path = prefix + key;
                var nested = value !== null && typeof value === 'object' && !Array.isArray(value) &&
                    Object.keys(value).length > 0;
                if (nested) {
                    var inner = {};
                    walk(value, inner, path + '.');
                    if (Object.keys(inner).length) {
                        target[key] = inner;
                    }
                } else if (isAllowed(path, whitelist)) {
                    target[key] = value;
                } else {
                    dropped.push(root + '.' + path);
                }
            });
        }(values, applied, ''));
        return applied;
    }

    function report(entry) {
        entry.room = room;
        var body = JSON.stringify(entry);
        // Chained, so the server records reports in the order the page made them.
        reportChain = reportChain.then(function () {
            return fetch('/_standin/report', {
                method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body, keepalive: true
            });
        }).catch(function () { /* the server may be gone at teardown */ });
        return reportChain;
    }

    function post(message) {
        if (!embedded) {
            return;
        }
        message.tag = TAG;
        // The embedder's origin is not known (palim://kiosk in production); the data carries no secrets.
        window.parent.postMessage(message, '*');
    }

    function emit(name, data) {
        post({ kind: 'event', name: name, data: data });
    }

    function setStatus(text) {
        document.getElementById('status').textContent = text;
    }

    function stopTracks() {
        if (stream) {
            stream.getTracks().forEach(function (track) { track.stop(); });
        }
    }

    function describeTrack(track) {
        var settings = track.getSettings ? track.getSettings() : {};
        return {
            kind: track.kind, readyState: track.readyState, enabled: track.enabled, muted: track.muted,
            label: track.label, width: settings.width || null, height: settings.height || null
        };
    }

    function setMuted(kind, muted) {
        if (stream) {
            stream.getTracks().forEach(function (track) {
                if (track.kind === kind) {
                    track.enabled = !muted;
                }
            });
        }
    }

    function gumErrorType(name) {
        // Jitsi's track error names as seen by embedders in cameraError / micError.
        if (name === 'NotAllowedError' || name === 'SecurityError') {
            return 'gum.permission_denied';
        }
        if (name === 'NotFoundError') {
            return 'gum.not_found';
        }
        if (name === 'OverconstrainedError') {
            return 'gum.constraint_failed';
        }
        return 'gum.general';
    }

    function leave(reason) {
        if (left) {
            return;
        }
        left = true;
        stopTracks();
        setStatus('You have left the meeting');
        emit('videoConferenceLeft', { roomName: room });
        report({ type: 'left', reason: reason });
        // Jitsi says readyToClose once its own hang-up work is done, shortly after leaving.
        setTimeout(function () { emit('readyToClose'); }, 100);
    }

    function runCommand(name, args) {
        report({ type: 'command', name: name, args: args });
        if (name === 'hangup') {
            leave('hangup');
        } else if (name === 'toggleAudio') {
            audioMuted = !audioMuted;
            setMuted('audio', audioMuted);
            emit('audioMuteStatusChanged', { muted: audioMuted });
        } else if (name === 'toggleVideo') {
            videoMuted = !videoMuted;
            setMuted('video', videoMuted);
            emit('videoMuteStatusChanged', { muted: videoMuted });
        } else if (name === 'overwriteConfig' && args[0] && typeof args[0] === 'object') {
            Object.assign(config, args[0]);
        }
        // Anything else is recorded above and otherwise ignored, like an unknown command in Jitsi.
    }

    function answer(name, args) {
        report({ type: 'function', name: name, args: args });
        if (name === 'isAudioMuted') {
            return audioMuted;
        }
        if (name === 'isVideoMuted') {
            return videoMuted;
        }
        if (name === 'getNumberOfParticipants') {
            return left ? 0 : 1 + Object.keys(remoteParticipants).length;
        }
        if (name === 'setAudioOutputDevice') {
            return true;
        }
        return undefined;
    }

    function onRemoteEvent(event) {
        if (left) {
            return;
        }
        if (event.name === 'family-hangup') {
            leave('family-hangup');
            return;
        }
        var data = event.data === null ? undefined : event.data;
        if (event.name === 'participantJoined' && data && data.id) {
            remoteParticipants[data.id] = true;
        } else if (event.name === 'participantLeft' && data && data.id) {
            delete remoteParticipants[data.id];
        }
        showFamily();
        report({ type: 'emitted', name: event.name, data: data === undefined ? null : data });
        emit(event.name, data);
    }

    function showFamily() {
        // The family's tile (the local camera mirrored, a stand-in's picture of them) only while someone is in.
        var someone = Object.keys(remoteParticipants).length > 0;
        if (document.getElementById('family').hidden === someone) {
            report({ type: 'family-tile', shown: someone });
        }
        document.getElementById('family').hidden = !someone;
        document.getElementById('family-label').hidden = !someone;
    }

    function poll() {
        if (left) {
            return;
        }
        fetch('/_standin/poll?room=' + encodeURIComponent(room) + '&wait=' + POLL_WAIT_MS, { cache: 'no-store' })
            .then(function (response) {
                if (!response.ok) {
                    throw new Error('poll answered ' + response.status);
                }
                return response.json();
            })
            .then(function (body) {
                pollFailures = 0;
                body.events.forEach(onRemoteEvent);
                setTimeout(poll, 0);
            })
            .catch(function () {
                pollFailures += 1;
                if (pollFailures >= POLL_FAILURES_FATAL) {
                    connectionDropped();
                    return;
                }
                setTimeout(poll, RETRY_MS);
            });
    }

    function connectionDropped() {
        left = true;
        stopTracks();
        setStatus('connection lost');
        emit('errorOccurred', { error: {
            name: 'connection.droppedError', type: 'CONNECTION', isFatal: true,
            message: 'the connection to the server was lost'
        } });
    }

    window.addEventListener('message', function (event) {
        // Commands are only taken from the page that embeds us.
        var message = event.data;
        if (!embedded || event.source !== window.parent || !message || message.tag !== TAG) {
            return;
        }
        if (message.kind === 'command') {
            runCommand(message.name, message.args || []);
        } else if (message.kind === 'request') {
            post({ kind: 'response', id: message.id, result: answer(message.name, message.args || []) });
        }
    });

    function acquireMedia() {
        var constraints = { audio: !config.startWithAudioMuted, video: !config.startWithVideoMuted };
        report({ type: 'media-requested', constraints: constraints });
        if (!constraints.audio && !constraints.video) {
            report({ type: 'media', tracks: [] });
            return Promise.resolve();
        }
        return navigator.mediaDevices.getUserMedia(constraints).then(function (acquired) {
            stream = acquired;
            if (left) {  // hung up while the permission was pending
                stopTracks();
                return;
            }
            // Like Jitsi: disableSelfView shows the resident's own camera nowhere (it is still sent).
            if (config.disableSelfView) {
                document.getElementById('local').hidden = true;
            } else {
                document.getElementById('local').srcObject = stream;
            }
            document.getElementById('family').srcObject = stream;
            report({ type: 'media', tracks: stream.getTracks().map(describeTrack),
                     selfView: !document.getElementById('local').hidden });
        }, function (error) {
            var name = (error && error.name) || 'Error';
            var message = (error && error.message) || String(error);
            report({ type: 'media-error', name: name, message: message });
            // Like Jitsi: tell the embedder which device failed, then join without it.
            var payload = { type: gumErrorType(name), message: message };
            if (constraints.video) {
                emit('cameraError', payload);
            }
            if (constraints.audio) {
                emit('micError', payload);
            }
        });
    }

    document.getElementById('caption').textContent = 'Stand-in Jitsi room ' + room;
    document.title = 'Stand-in Jitsi room ' + room;
    post({ kind: 'ready' });
    report({
        type: 'loaded',
        config: config,
        interfaceConfig: params.interfaceConfig,
        dropped: dropped,
        userInfo: params.userInfo,
        lang: query.get('lang'),
        jwt: query.get('jwt'),
        embedded: embedded,
        // Chromium tells a frame its ancestors' origins; the stand-in accepts any parent, so null is fine too.
        parent_origin: (location.ancestorOrigins && location.ancestorOrigins.length) ?
            location.ancestorOrigins[0] : null
    });
    emit('browserSupport', { supported: true });
    var refusal = window.PALIM_STANDIN_REFUSAL;  // token mode: the server refused this join's token
    if (refusal) {
        // As jitsi-meet does when Prosody refuses the login: errorOccurred with lib-jitsi-meet's error, no conference.
        left = true;
        setStatus('access refused');
        report({ type: 'refused', error: refusal });
        emit('errorOccurred', { error: refusal });
        return;
    }
    poll();
    acquireMedia().then(function () {
        if (left) {
            return;
        }
        setStatus('');
        var joined = {
            roomName: room, id: participantId, displayName: params.userInfo.displayName || '',
            avatarURL: '', breakoutRoom: false, visitor: false
        };
        emit('videoConferenceJoined', joined);
        report({ type: 'joined', roomName: room, id: participantId, displayName: joined.displayName,
                 familyTile: !document.getElementById('family').hidden });
    });
}());
