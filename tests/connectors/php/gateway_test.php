<?php
/**
 * The Bluepaid hub gateway's redirect logic, against the stubs in wc_stubs.php.
 * Prints one line per check; exits 1 if any failed. Run by test_woocommerce_shop_module.py.
 */

require __DIR__ . '/wc_stubs.php';
require $argv[1];

$failures = 0;

function check( $name, $got, $want ) {
	global $failures;
	if ( $got === $want ) {
		echo "ok {$name}\n";
		return;
	}
	$failures++;
	echo "FAIL {$name}: got " . var_export( $got, true ) . ', want ' . var_export( $want, true ) . "\n";
}

$template = 'https://hub.example/pay/myshop/{order_ref}?key={key}';

// The pay URL.
check( 'url', bluepaid_hub_pay_url( $template, 727, 'wc_order_58d2d042d1d' ), 'https://hub.example/pay/myshop/727?key=wc_order_58d2d042d1d' );
check( 'key encoded', bluepaid_hub_pay_url( $template, '727', 'a&b=c d' ), 'https://hub.example/pay/myshop/727?key=a%26b%3Dc%20d' );
check( 'plain http refused', bluepaid_hub_pay_url( 'http://hub.example/pay/s/{order_ref}?key={key}', 727, 'k' ), '' );
check( 'http on the own machine', bluepaid_hub_pay_url( 'http://127.0.0.1:5000/pay/s/{order_ref}?key={key}', 7, 'k' ), 'http://127.0.0.1:5000/pay/s/7?key=k' );
check( 'no key placeholder', bluepaid_hub_pay_url( 'https://hub.example/pay/s/{order_ref}', 727, 'k' ), '' );
check( 'placeholder twice', bluepaid_hub_pay_url( 'https://hub.example/pay/{order_ref}/{order_ref}?key={key}', 727, 'k' ), '' );
check( 'empty template', bluepaid_hub_pay_url( '', 727, 'k' ), '' );
check( 'id not a number', bluepaid_hub_pay_url( $template, '7/../8', 'k' ), '' );
check( 'no order key', bluepaid_hub_pay_url( $template, 727, '' ), '' );
check( 'other scheme', bluepaid_hub_pay_url( 'javascript://hub.example/{order_ref}?key={key}', 727, 'k' ), '' );

// Registration.
do_action( 'plugins_loaded' );
check( 'class declared', class_exists( 'Bluepaid_Hub_Gateway' ), true );
check( 'registered', apply_filters( 'woocommerce_payment_gateways', array() ), array( 'Bluepaid_Hub_Gateway' ) );

// Availability.
$gateway = new Bluepaid_Hub_Gateway();
check( 'id', $gateway->id, 'bluepaid' );
check( 'off by default', $gateway->is_available(), false );
$gateway->settings['enabled'] = 'yes';
check( 'not without a pay URL', $gateway->is_available(), false );
$gateway->settings['pay_url_template'] = $template;
check( 'available', $gateway->is_available(), true );
$GLOBALS['stub_currency'] = 'SEK';
check( 'not in a currency the platform refuses', $gateway->is_available(), false );
$GLOBALS['stub_currency'] = 'EUR';

// Place order: to the hub's pay URL, with the order's own key.
$GLOBALS['stub_orders'][727] = new WC_Order( 727, 'wc_order_58d2d042d1d' );
check(
	'redirect',
	$gateway->process_payment( 727 ),
	array(
		'result'   => 'success',
		'redirect' => 'https://hub.example/pay/myshop/727?key=wc_order_58d2d042d1d',
	)
);
check( 'no notice', $GLOBALS['stub_notices'], array() );
check( 'unknown order', $gateway->process_payment( 999 ), array( 'result' => 'failure' ) );
$gateway->settings['pay_url_template'] = 'http://hub.example/pay/s/{order_ref}?key={key}';
check( 'bad template', $gateway->process_payment( 727 ), array( 'result' => 'failure' ) );
check( 'buyer told', count( $GLOBALS['stub_notices'] ), 2 );

// The block checkout: nothing before WooCommerce Blocks is loaded, then the method
// registered with the gateway's texts, never its pay URL template.
do_action( 'woocommerce_blocks_loaded' );
check( 'no blocks class without WooCommerce Blocks', class_exists( 'Bluepaid_Hub_Blocks', false ), false );
require __DIR__ . '/blocks_stubs.php';
do_action( 'woocommerce_blocks_loaded' );
$registry = new Automattic\WooCommerce\Blocks\Payments\PaymentMethodRegistry();
do_action( 'woocommerce_blocks_payment_method_type_registration', $registry );
check( 'one block method', count( $registry->registered ), 1 );
$blocks = $registry->registered[0];
check( 'block method name', $blocks->get_name(), 'bluepaid' );
$blocks->initialize();
check( 'block script off while the method is off', $blocks->is_active(), false );
$GLOBALS['stub_options']['woocommerce_bluepaid_settings'] = array(
	'enabled'          => 'yes',
	'title'            => 'Carte bancaire (Bluepaid)',
	'description'      => 'Vous paierez sur la page sécurisée.',
	'pay_url_template' => $template,
);
$blocks->initialize();
check( 'block script on', $blocks->is_active(), true );
check( 'block script', $blocks->get_payment_method_script_handles(), array( 'bluepaid-hub-blocks' ) );
check(
	'block script source',
	$GLOBALS['stub_scripts']['bluepaid-hub-blocks'],
	array(
		'https://shop.example/wp-content/plugins/bluepaid-hub-gateway/assets/blocks.js',
		array( 'wc-blocks-registry', 'wc-settings', 'wp-element', 'wp-html-entities' ),
	)
);
check(
	'block data',
	$blocks->get_payment_method_data(),
	array(
		'title'       => 'Carte bancaire (Bluepaid)',
		'description' => 'Vous paierez sur la page sécurisée.',
		'supports'    => array( 'products' ),
	)
);

echo $failures ? "{$failures} failed\n" : "all passed\n";
exit( $failures ? 1 : 0 );
