/* Benchmark only: turns the stand-in room into a real one-to-one call. The camera track is sent through a WebRTC
 * peer connection to a second, in-page peer (encode, SRTP over loopback UDP, decode), and the received stream is the
 * "family": shown big, as Jitsi's stage view shows the remote participant; the local camera stays a small tile.
 * Jitsi's capture constraints from config (constraints.video, resolution) are applied to the camera, as Jitsi does. */
(function () {
    'use strict';

    function configFromHash() {
        var config = {};
        location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
            var eq = pair.indexOf('=');
            if (eq < 0 || pair.indexOf('config.') !== 0) {
                return;
            }
            try {
                config[pair.slice(7, eq)] = JSON.parse(decodeURIComponent(pair.slice(eq + 1)));
            } catch (error) { /* not JSON: not a constraint */ }
        });
        return config;
    }

    function videoConstraints(config) {
        var video = (config.constraints && config.constraints.video) || {};
        if (!video.height && config.resolution) {
            video = Object.assign({ height: { ideal: config.resolution, max: config.resolution } }, video);
        }
        return video;
    }

    function report(entry) {
        fetch('/_standin/report', {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(entry)
        }).catch(function () {});
    }

    function connect(stream) {
        var sender = new RTCPeerConnection();
        var receiver = new RTCPeerConnection();
        sender.onicecandidate = function (e) { if (e.candidate) { receiver.addIceCandidate(e.candidate); } };
        receiver.onicecandidate = function (e) { if (e.candidate) { sender.addIceCandidate(e.candidate); } };
        receiver.ontrack = function (e) {
            var big = document.getElementById('local');
            var small = document.getElementById('family');
            if (big.srcObject !== e.streams[0]) {
                big.hidden = false;
                big.srcObject = e.streams[0];
                big.muted = false;  // the family's voice plays, as in a call
                if (config.disableSelfView) {  // as Jitsi: the own camera is shown nowhere
                    small.srcObject = null;
                    small.hidden = true;
                } else {
                    small.srcObject = stream;
                    small.style.transform = 'none';
                }
            }
        };
        stream.getTracks().forEach(function (track) { sender.addTrack(track, stream); });
        return sender.createOffer()
            .then(function (offer) { return sender.setLocalDescription(offer); })
            .then(function () { return receiver.setRemoteDescription(sender.localDescription); })
            .then(function () { return receiver.createAnswer(); })
            .then(function (answer) { return receiver.setLocalDescription(answer); })
            .then(function () { return sender.setRemoteDescription(receiver.localDescription); })
            .then(function () {
                window.benchPeers = [sender, receiver];
                var video = stream.getVideoTracks()[0];
                var settings = video && video.getSettings ? video.getSettings() : {};
                report({ type: 'bench-peer', width: settings.width || null, height: settings.height || null,
                         frameRate: settings.frameRate || null });
            });
    }

    var config = configFromHash();
    var waited = 0;
    (function wait() {
        var local = document.getElementById('local');
        var family = document.getElementById('family');  // room.js mirrors the camera here even without self view
        var stream = (local && local.srcObject) || (family && family.srcObject);
        if (!stream) {
            waited += 50;
            if (waited < 30000) {
                setTimeout(wait, 50);
            }
            return;
        }
        var video = stream.getVideoTracks()[0];
        var applied = video ? video.applyConstraints(videoConstraints(config)) : Promise.resolve();
        applied.catch(function (error) { report({ type: 'bench-peer-error', message: String(error) }); })
            .then(function () { return connect(stream); })
            .catch(function (error) { report({ type: 'bench-peer-error', message: String(error) }); });
    }());
}());
