/* The stand-in's badly set up config.js: an old jitsi-meet's defaults, locked with tokens and no guest domain.
 * Served with StandinServer(server_config="bad"), so tests can see server-check find each problem. */
var config = {
    hosts: {
        domain: 'meet.jitsi',
        muc: 'conference.meet.jitsi'
    },
    bosh: '/http-bind',
    prejoinPageEnabled: true,
    enableWelcomePage: true,
    enableClosePage: true,
    enableUserRolesBasedOnToken: true
};

config.p2p = { enabled: false };
