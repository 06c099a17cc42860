/**
 * The Bluepaid method in WooCommerce's checkout block: its title and description.
 * "Place order" runs the gateway's process_payment on the server, whose redirect
 * sends the buyer to the hub. No field here: the card is typed on the payment page.
 * Plain script, no build step: it uses the globals WooCommerce and WordPress give
 * the handles it depends on (wc-blocks-registry, wc-settings, wp-element,
 * wp-html-entities). Texts go through createElement, which escapes them.
 */
( function () {
	'use strict';
	var registry = window.wc.wcBlocksRegistry;
	var settings = window.wc.wcSettings.getSetting( 'bluepaid_data', {} );
	var decode = window.wp.htmlEntities.decodeEntities;
	var el = window.wp.element.createElement;
	var title = decode( settings.title || '' ) || 'Bluepaid';
	var description = decode( settings.description || '' );

	function Description() {
		return el( 'p', null, description );
	}

	registry.registerPaymentMethod( {
		name: 'bluepaid',
		label: el( 'span', null, title ),
		ariaLabel: title,
		content: el( Description ),
		edit: el( Description ),
		canMakePayment: function () {
			return true;
		},
		supports: { features: settings.supports || [ 'products' ] }
	} );
}() );
