<?php
/**
 * Runs the Bluepaid module's redirect logic against the stubs and prints what happened,
 * one JSON object per scenario (read by tests/connectors/test_prestashop_module.py).
 */
require __DIR__ . '/stubs.php';
require __DIR__ . '/paymentoption.php';
$module = getenv('BLUEPAID_MODULE_DIR');
require $module . '/bluepaid.php';
require $module . '/controllers/front/redirect.php';

const TEMPLATE = 'https://hub.example/pay/boutique/{order_ref}?key={key}';

function scenario(array $config, array $customers)
{
    Configuration::$values = $config;
    Customer::$known = $customers;
    Order::$known = [];
    $module = new Bluepaid();
    $context = new Context();
    $context->cart = new Cart();
    $context->currency = (object) ['id' => 1];
    $context->link = new Link();
    $module->context = $context;
    $controller = new BluepaidRedirectModuleFrontController();
    $controller->module = $module;
    $controller->context = $context;
    try {
        $controller->postProcess();
        $redirect = null;
    } catch (RedirectDone $done) {
        $redirect = $done->url;
    }
    $options = $module->hookPaymentOptions([]);

    return [
        'redirect' => $redirect,
        'validated' => $module->validated,
        'options' => array_map(function ($option) { return $option->values; }, $options),
    ];
}

$configured = [Bluepaid::PAY_URL => TEMPLATE, Bluepaid::WAITING_STATE => 14];
echo json_encode([
    'configured' => scenario($configured, [1 => 'b44a6d9efd7a0076a0fbce6b15eaf3b1']),
    'odd_key' => scenario($configured, [1 => 'a b&c/d']),
    'not_configured' => scenario([Bluepaid::WAITING_STATE => 14], [1 => 'b44a6d9efd7a0076a0fbce6b15eaf3b1']),
    'no_state' => scenario([Bluepaid::PAY_URL => TEMPLATE], [1 => 'b44a6d9efd7a0076a0fbce6b15eaf3b1']),
    'unknown_customer' => scenario($configured, []),
    'templates' => [
        'good' => Bluepaid::isPayUrlTemplate(TEMPLATE),
        'no_key' => Bluepaid::isPayUrlTemplate('https://hub.example/pay/boutique/{order_ref}'),
        'javascript' => Bluepaid::isPayUrlTemplate('javascript:alert(1)//{order_ref}{key}'),
        'empty' => Bluepaid::isPayUrlTemplate(false),
    ],
]);
