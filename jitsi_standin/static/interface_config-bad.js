/* The stand-in's badly set up interface_config.js: stock defaults, watermarks and app promotion on. */
var interfaceConfig = {
    APP_NAME: 'Jitsi Meet',
    SHOW_JITSI_WATERMARK: true,
    SHOW_WATERMARK_FOR_GUESTS: true,
    SHOW_BRAND_WATERMARK: false,
    MOBILE_APP_PROMO: true
};
