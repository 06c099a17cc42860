<?php
/**
 * Plugin Name:          Bluepaid hub gateway
 * Description:          Sends the buyer from the WooCommerce checkout to the Bluepaid hub's pay URL of the order. The hub takes the payment and marks the order paid through the REST API.
 * Version:              1.1.0
 * Requires at least:    5.6
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * WC requires at least: 3.5
 * WC tested up to:      9.4
 * License:              MIT
 *
 * The whole of the shop side: one payment method whose "Place order" opens the
 * hub's pay URL with the order's id and its order_key (the proof the hub checks
 * against the order it reads from the REST API). Nothing is paid, stored or
 * decided here: the amount, the status and the payment come from the hub.
 *
 * @package Bluepaid_Hub_Gateway
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const BLUEPAID_HUB_GATEWAY_VERSION = '1.1.0';
const BLUEPAID_HUB_GATEWAY_FILE    = __FILE__;

/** The currencies the Bluepaid platform takes; the method is offered for no other. */
const BLUEPAID_HUB_CURRENCIES = array( 'EUR', 'CHF', 'USD', 'GBP', 'JPY', 'CAD', 'AUD' );

/**
 * The pay URL of an order, from the template `bluepaid shop show` prints
 * ("https://hub.example/pay/myshop/{order_ref}?key={key}").
 *
 * Returns '' when the template is not an https URL (http only for a hub on the
 * merchant's own machine) holding both placeholders once: a buyer is never sent
 * to a URL the hub cannot read.
 *
 * @param string     $template  The pay URL template of the shop.
 * @param int|string $order_id  The WooCommerce order id (the hub's order ref).
 * @param string     $order_key The order's key (wc_order_...).
 * @return string
 */
function bluepaid_hub_pay_url( $template, $order_id, $order_key ) {
	$template = trim( (string) $template );
	$scheme   = strtolower( (string) parse_url( $template, PHP_URL_SCHEME ) );
	$host     = strtolower( (string) parse_url( str_replace( array( '{order_ref}', '{key}' ), 'x', $template ), PHP_URL_HOST ) );
	$local    = in_array( $host, array( 'localhost', '127.0.0.1', '[::1]' ), true );
	if ( 'https' !== $scheme && ! ( 'http' === $scheme && $local ) ) {
		return '';
	}
	if ( 1 !== substr_count( $template, '{order_ref}' ) || 1 !== substr_count( $template, '{key}' ) ) {
		return '';
	}
	$id = (string) $order_id;
	if ( '' === $id || ! ctype_digit( $id ) || '' === (string) $order_key ) {
		return '';
	}
	return str_replace(
		array( '{order_ref}', '{key}' ),
		array( rawurlencode( $id ), rawurlencode( (string) $order_key ) ),
		$template
	);
}

/**
 * Declares the gateway once WooCommerce is loaded (its base class comes with it).
 */
function bluepaid_hub_gateway_init() {
	if ( ! class_exists( 'WC_Payment_Gateway' ) ) {
		return;
	}

	/**
	 * The Bluepaid payment method.
	 */
	class Bluepaid_Hub_Gateway extends WC_Payment_Gateway {

		/**
		 * Settings: WooCommerce > Settings > Payments > Bluepaid.
		 */
		public function __construct() {
			$this->id                 = 'bluepaid';
			$this->has_fields         = false;
			$this->method_title       = 'Bluepaid';
			$this->method_description = 'Card payment on the Bluepaid payment page, through the Bluepaid hub.';
			$this->supports           = array( 'products' );
			$this->init_form_fields();
			$this->init_settings();
			$this->title       = $this->get_option( 'title' );
			$this->description = $this->get_option( 'description' );
			add_action( 'woocommerce_update_options_payment_gateways_' . $this->id, array( $this, 'process_admin_options' ) );
		}

		/**
		 * The merchant's settings.
		 */
		public function init_form_fields() {
			$this->form_fields = array(
				'enabled'          => array(
					'title'   => 'Enable/Disable',
					'type'    => 'checkbox',
					'label'   => 'Enable Bluepaid',
					'default' => 'no',
				),
				'title'            => array(
					'title'   => 'Title',
					'type'    => 'text',
					'default' => 'Credit card (Bluepaid)',
				),
				'description'      => array(
					'title'   => 'Description',
					'type'    => 'textarea',
					'default' => 'You will pay on the secure Bluepaid payment page.',
				),
				'pay_url_template' => array(
					'title'       => 'Pay URL template',
					'type'        => 'text',
					'description' => 'The pay_url_template printed by "bluepaid shop show": https://hub.example/pay/myshop/{order_ref}?key={key}',
					'default'     => '',
				),
			);
		}

		/**
		 * Offered only with a usable pay URL and a currency the platform takes.
		 *
		 * @return bool
		 */
		public function is_available() {
			$currency = function_exists( 'get_woocommerce_currency' ) ? get_woocommerce_currency() : '';
			return parent::is_available()
				&& '' !== bluepaid_hub_pay_url( $this->get_option( 'pay_url_template' ), 1, 'k' )
				&& in_array( $currency, BLUEPAID_HUB_CURRENCIES, true );
		}

		/**
		 * "Place order" (and "Pay" on the order-pay page of a failed order): the order
		 * stays pending, and the buyer goes to the hub, which reads it from the REST API.
		 *
		 * @param int $order_id The order being paid.
		 * @return array
		 */
		public function process_payment( $order_id ) {
			$order = wc_get_order( $order_id );
			$url   = $order ? bluepaid_hub_pay_url( $this->get_option( 'pay_url_template' ), $order->get_id(), $order->get_order_key() ) : '';
			if ( '' === $url ) {
				wc_add_notice( 'This payment method is not available now. Please choose another one.', 'error' );
				return array( 'result' => 'failure' );
			}
			return array(
				'result'   => 'success',
				'redirect' => $url,
			);
		}
	}
}
add_action( 'plugins_loaded', 'bluepaid_hub_gateway_init', 11 );

/**
 * Tells WooCommerce what this plugin works with: the order tables of either storage
 * (it only uses wc_get_order and the order's getters) and the block checkout (see
 * includes/class-bluepaid-hub-blocks.php).
 */
function bluepaid_hub_gateway_declare_features() {
	if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
		\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', __FILE__, true );
	}
}
add_action( 'before_woocommerce_init', 'bluepaid_hub_gateway_declare_features' );

/**
 * Offers the method in the block checkout too, once WooCommerce Blocks is loaded
 * (before 8.3 a shop may run without it: the classic checkout still works).
 */
function bluepaid_hub_gateway_blocks() {
	if ( ! class_exists( '\Automattic\WooCommerce\Blocks\Payments\Integrations\AbstractPaymentMethodType' ) ) {
		return;
	}
	require_once __DIR__ . '/includes/class-bluepaid-hub-blocks.php';
	add_action( 'woocommerce_blocks_payment_method_type_registration', 'bluepaid_hub_gateway_register_blocks' );
}
add_action( 'woocommerce_blocks_loaded', 'bluepaid_hub_gateway_blocks' );

/**
 * Registers the block checkout's side of the method.
 *
 * @param \Automattic\WooCommerce\Blocks\Payments\PaymentMethodRegistry $registry The payment methods of the blocks.
 */
function bluepaid_hub_gateway_register_blocks( $registry ) {
	$registry->register( new Bluepaid_Hub_Blocks() );
}

/**
 * Adds the gateway to WooCommerce's payment methods.
 *
 * @param array $methods The gateway classes.
 * @return array
 */
function bluepaid_hub_gateway_register( $methods ) {
	$methods[] = 'Bluepaid_Hub_Gateway';
	return $methods;
}
add_filter( 'woocommerce_payment_gateways', 'bluepaid_hub_gateway_register' );
