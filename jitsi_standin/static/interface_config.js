/* The stand-in's interface_config.js as docs/jitsi-server.md recommends: nothing for a resident to tap by mistake. */
var interfaceConfig = {
    APP_NAME: 'Jitsi Meet',
    SHOW_JITSI_WATERMARK: false,
    SHOW_WATERMARK_FOR_GUESTS: false,
    SHOW_BRAND_WATERMARK: false,
    MOBILE_APP_PROMO: false,
    TOOLBAR_ALWAYS_VISIBLE: false
};
