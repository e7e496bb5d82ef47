/* Palim's loopback stand-in for Jitsi's external_api.js: written from the public IFrame API contract only.
 * Defines the global JitsiMeetExternalAPI(domain, options); talks to the room page in the iframe over postMessage. */
(function (global) {
    'use strict';

    var ALLOW = 'camera; microphone; display-capture; autoplay; clipboard-write';
    var TAG = 'palim-jitsi-standin';  // marks our messages so unrelated postMessage traffic is ignored
    var frameCounter = 0;

    function cssSize(value) {
        // Numbers are pixels, strings are taken as CSS lengths, like the real API does.
        if (value === undefined || value === null || value === '') {
            return '100%';
        }
        return typeof value === 'number' ? value + 'px' : String(value);
    }

    function hashPart(prefix, object) {
        var parts = [];
        Object.keys(object || {}).forEach(function (key) {
            parts.push(prefix + '.' + key + '=' + encodeURIComponent(JSON.stringify(object[key])));
        });
        return parts;
    }

    function buildSrc(domain, options) {
        var query = [];
        if (options.jwt) {
            query.push('jwt=' + encodeURIComponent(options.jwt));
        }
        if (options.lang) {
            query.push('lang=' + encodeURIComponent(options.lang));
        }
        var hash = [].concat(
            hashPart('config', options.configOverwrite),
            hashPart('interfaceConfig', options.interfaceConfigOverwrite),
            hashPart('userInfo', options.userInfo));
        return 'https://' + domain + '/' + encodeURIComponent(options.roomName || '') +
            (query.length ? '?' + query.join('&') : '') +
            (hash.length ? '#' + hash.join('&') : '');
    }

    function JitsiMeetExternalAPI(domain, options) {
        if (!(this instanceof JitsiMeetExternalAPI)) {
            throw new TypeError('JitsiMeetExternalAPI must be called with new');
        }
        options = options || {};
        this._domain = domain;
        // new URL() normalises the origin (a default port disappears), so the origin check compares like with like.
        this._origin = new URL('https://' + domain).origin;
        this._listeners = {};
        this._pending = {};
        this._nextRequestId = 1;
        this._outbox = [];   // commands sent before the room page said it is ready
        this._ready = false;
        this._disposed = false;

        var frame = document.createElement('iframe');
        frame.id = 'jitsiConferenceFrame' + frameCounter;
        frame.name = frame.id;
        frameCounter += 1;
        frame.setAttribute('allow', ALLOW);
        frame.allowFullscreen = true;
        frame.style.border = '0';
        frame.style.width = cssSize(options.width);
        frame.style.height = cssSize(options.height);
        if (typeof options.onload === 'function') {
            frame.onload = options.onload;
        }
        frame.src = buildSrc(domain, options);
        this._frame = frame;

        this._onMessage = this._handleMessage.bind(this);
        global.addEventListener('message', this._onMessage);
        (options.parentNode || document.body).appendChild(frame);
    }

    JitsiMeetExternalAPI.prototype._handleMessage = function (event) {
        // Only our own iframe, served from the Jitsi origin, may speak to us.
        if (!this._frame || event.source !== this._frame.contentWindow || event.origin !== this._origin) {
            return;
        }
        var message = event.data;
        if (!message || message.tag !== TAG) {
            return;
        }
        if (message.kind === 'ready') {
            this._ready = true;
            var queued = this._outbox;
            this._outbox = [];
            queued.forEach(this._post, this);
        } else if (message.kind === 'event') {
            this._emit(message.name, message.data);
        } else if (message.kind === 'response') {
            var resolve = this._pending[message.id];
            delete this._pending[message.id];
            if (resolve) {
                resolve(message.result);
            }
        }
    };

    JitsiMeetExternalAPI.prototype._emit = function (name, data) {
        (this._listeners[name] || []).slice().forEach(function (listener) {
            try {
                listener(data);
            } catch (error) {
                // One broken listener must not hide the event from the others.
                setTimeout(function () { throw error; });
            }
        });
    };

    JitsiMeetExternalAPI.prototype._post = function (message) {
        if (this._disposed) {
            return;
        }
        if (!this._ready) {
            this._outbox.push(message);
            return;
        }
        message.tag = TAG;
        this._frame.contentWindow.postMessage(message, this._origin);
    };

    JitsiMeetExternalAPI.prototype._request = function (name, args) {
        var self = this;
        return new Promise(function (resolve) {
            var id = self._nextRequestId++;
            self._pending[id] = resolve;
            self._post({ kind: 'request', id: id, name: name, args: args || [] });
        });
    };

    JitsiMeetExternalAPI.prototype.addListener = function (name, listener) {
        (this._listeners[name] = this._listeners[name] || []).push(listener);
        return this;
    };
    JitsiMeetExternalAPI.prototype.on = JitsiMeetExternalAPI.prototype.addListener;
    JitsiMeetExternalAPI.prototype.addEventListener = JitsiMeetExternalAPI.prototype.addListener;

    JitsiMeetExternalAPI.prototype.addEventListeners = function (listeners) {
        Object.keys(listeners || {}).forEach(function (name) {
            this.addListener(name, listeners[name]);
        }, this);
    };

    JitsiMeetExternalAPI.prototype.removeListener = function (name, listener) {
        var list = this._listeners[name] || [];
        var index = list.indexOf(listener);
        if (index >= 0) {
            list.splice(index, 1);
        }
        return this;
    };
    JitsiMeetExternalAPI.prototype.off = JitsiMeetExternalAPI.prototype.removeListener;

    JitsiMeetExternalAPI.prototype.removeEventListener = function (name) {
        delete this._listeners[name];
    };

    JitsiMeetExternalAPI.prototype.removeEventListeners = function (names) {
        (names || []).forEach(this.removeEventListener, this);
    };

    JitsiMeetExternalAPI.prototype.removeAllListeners = function () {
        this._listeners = {};
        return this;
    };

    JitsiMeetExternalAPI.prototype.executeCommand = function (name) {
        this._post({ kind: 'command', name: name, args: Array.prototype.slice.call(arguments, 1) });
    };

    JitsiMeetExternalAPI.prototype.executeCommands = function (commands) {
        // Each value is the command's single argument, as in the real API.
        Object.keys(commands || {}).forEach(function (name) {
            this.executeCommand(name, commands[name]);
        }, this);
    };

    JitsiMeetExternalAPI.prototype.isAudioMuted = function () { return this._request('isAudioMuted'); };
    JitsiMeetExternalAPI.prototype.isVideoMuted = function () { return this._request('isVideoMuted'); };
    JitsiMeetExternalAPI.prototype.getNumberOfParticipants = function () {
        return this._request('getNumberOfParticipants');
    };
    JitsiMeetExternalAPI.prototype.setAudioOutputDevice = function (label, id) {
        return this._request('setAudioOutputDevice', [label, id]);
    };

    JitsiMeetExternalAPI.prototype.getIFrame = function () {
        return this._frame;
    };

    JitsiMeetExternalAPI.prototype.dispose = function () {
        if (this._disposed) {
            return;
        }
        this._disposed = true;
        global.removeEventListener('message', this._onMessage);
        this._listeners = {};
        this._outbox = [];
        if (this._frame && this._frame.parentNode) {
            this._frame.parentNode.removeChild(this._frame);
        }
        this._frame = null;
    };

    global.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
}(window));
