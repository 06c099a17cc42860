define(['uiComponent', 'Magento_Checkout/js/model/payment/renderer-list'], function (Component, rendererList) {
    'use strict';
    rendererList.push({
        type: 'bluepaid_hub',
        component: 'Bluepaid_Hub/js/view/payment/method-renderer/bluepaid'
    });
    return Component.extend({});
});
