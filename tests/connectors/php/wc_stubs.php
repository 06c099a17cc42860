<?php
/**
 * The few WordPress and WooCommerce functions and classes the Bluepaid hub gateway
 * uses, as stubs that record what the plugin does with them.
 */

define( 'ABSPATH', __DIR__ . '/' );

$GLOBALS['stub_hooks']    = array();
$GLOBALS['stub_notices']  = array();
$GLOBALS['stub_orders']   = array();
$GLOBALS['stub_currency'] = 'EUR';
$GLOBALS['stub_options']  = array();
$GLOBALS['stub_scripts']  = array();

function add_action( $hook, $callback, $priority = 10 ) {
	$GLOBALS['stub_hooks'][ $hook ][] = $callback;
}

function add_filter( $hook, $callback, $priority = 10 ) {
	$GLOBALS['stub_hooks'][ $hook ][] = $callback;
}

function do_action( $hook, ...$args ) {
	foreach ( $GLOBALS['stub_hooks'][ $hook ] ?? array() as $callback ) {
		call_user_func_array( $callback, $args );
	}
}

function apply_filters( $hook, $value ) {
	foreach ( $GLOBALS['stub_hooks'][ $hook ] ?? array() as $callback ) {
		$value = call_user_func( $callback, $value );
	}
	return $value;
}

function get_option( $name, $default = false ) {
	return $GLOBALS['stub_options'][ $name ] ?? $default;
}

function plugins_url( $path, $plugin_file ) {
	return 'https://shop.example/wp-content/plugins/' . basename( dirname( $plugin_file ) ) . '/' . $path;
}

function wp_register_script( $handle, $src, $deps, $version, $in_footer ) {
	$GLOBALS['stub_scripts'][ $handle ] = array( $src, $deps );
	return true;
}

function wc_add_notice( $message, $type ) {
	$GLOBALS['stub_notices'][] = array( $type, $message );
}

function get_woocommerce_currency() {
	return $GLOBALS['stub_currency'];
}

function wc_get_order( $id ) {
	return $GLOBALS['stub_orders'][ $id ] ?? false;
}

class WC_Order {
	private $id;
	private $key;

	public function __construct( $id, $key ) {
		$this->id  = $id;
		$this->key = $key;
	}

	public function get_id() {
		return $this->id;
	}

	public function get_order_key() {
		return $this->key;
	}
}

class WC_Payment_Gateway {
	public $id;
	public $title;
	public $description;
	public $has_fields;
	public $method_title;
	public $method_description;
	public $supports    = array();
	public $form_fields = array();
	public $settings    = array();

	public function init_settings() {
		foreach ( $this->form_fields as $name => $field ) {
			$this->settings[ $name ] = $field['default'] ?? '';
		}
	}

	public function get_option( $name ) {
		return $this->settings[ $name ] ?? '';
	}

	public function is_available() {
		return 'yes' === $this->get_option( 'enabled' );
	}

	public function process_admin_options() {
	}
}
