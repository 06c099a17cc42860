define(['Magento_Checkout/js/view/payment/default', 'mage/url'], function (Component, url) {
    'use strict';
    return Component.extend({
        defaults: {
            template: 'Bluepaid_Hub/payment/bluepaid',
            // The order is placed first; then the buyer goes to the hub, through bluepaid/redirect.
            redirectAfterPlaceOrder: false
        },
        afterPlaceOrder: function () {
            window.location.replace(url.build('bluepaid/redirect'));
        }
    });
});
