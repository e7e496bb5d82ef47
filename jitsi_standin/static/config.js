/* The stand-in's config.js, set up the way docs/jitsi-server.md recommends for a city's kiosks.
 * Only what palim-provision server-check reads; a real server's file holds many more options. */
var config = {
    hosts: {
        domain: 'meet.jitsi',
        muc: 'conference.meet.jitsi'
    },
    bosh: '/http-bind',

    // The resident's kiosk skips this page itself; the family keeps it to pick camera and microphone.
    prejoinConfig: {
        enabled: true,
        hideDisplayName: false
    },

    p2p: {
        enabled: true,
        stunServers: [{ urls: 'stun:meet-jit-si-turnrelay.jitsi.net:443' }]
    },

    // Room links open in the phone's browser, no app needed.
    deeplinking: {
        disabled: true
    },

    enableWelcomePage: false,
    enableClosePage: false
};

/* eslint-disable no-unused-vars, no-var */
config.disableThirdPartyRequests = true;
