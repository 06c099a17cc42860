<?php
/**
 * The Bluepaid method in WooCommerce's block checkout (the default checkout of
 * shops installed with WooCommerce 8.3 and later).
 *
 * Loaded only once WooCommerce Blocks is (its base class comes with it). The block
 * checkout shows the label and description of assets/blocks.js; "Place order" then
 * runs the classic gateway's process_payment through the Store API, and its
 * redirect sends the buyer to the hub, as on the classic checkout.
 *
 * @package Bluepaid_Hub_Gateway
 */

use Automattic\WooCommerce\Blocks\Payments\Integrations\AbstractPaymentMethodType;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * What the block checkout needs of the method: a script and the texts it shows.
 */
final class Bluepaid_Hub_Blocks extends AbstractPaymentMethodType {

	/**
	 * The gateway's id, which the block checkout sends back to the Store API.
	 *
	 * @var string
	 */
	protected $name = 'bluepaid';

	/**
	 * Reads the gateway's settings (WooCommerce > Settings > Payments > Bluepaid).
	 */
	public function initialize() {
		$this->settings = get_option( 'woocommerce_bluepaid_settings', array() );
	}

	/**
	 * The script is loaded only when the merchant enabled the method; whether it is
	 * offered for this cart is still the gateway's is_available (pay URL, currency).
	 *
	 * @return bool
	 */
	public function is_active() {
		return 'yes' === $this->get_setting( 'enabled', 'no' );
	}

	/**
	 * The script that registers the method in the checkout block.
	 *
	 * @return string[]
	 */
	public function get_payment_method_script_handles() {
		wp_register_script(
			'bluepaid-hub-blocks',
			plugins_url( 'assets/blocks.js', BLUEPAID_HUB_GATEWAY_FILE ),
			array( 'wc-blocks-registry', 'wc-settings', 'wp-element', 'wp-html-entities' ),
			BLUEPAID_HUB_GATEWAY_VERSION,
			true
		);
		return array( 'bluepaid-hub-blocks' );
	}

	/**
	 * What the script reads as getSetting( 'bluepaid_data' ): texts only, never the
	 * pay URL template or anything else of the settings.
	 *
	 * @return array
	 */
	public function get_payment_method_data() {
		return array(
			'title'       => $this->get_setting( 'title' ),
			'description' => $this->get_setting( 'description' ),
			'supports'    => array( 'products' ),
		);
	}
}
