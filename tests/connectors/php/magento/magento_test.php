<?php
/**
 * The Bluepaid_Hub module's redirect logic, against the stubs in stubs.php.
 * Prints one line per check; exits 1 if any failed. Run by test_magento_module.py.
 */

require __DIR__ . '/stubs.php';
$module = $argv[1];
require $module . '/registration.php';
require $module . '/Model/Payment.php';
require $module . '/Model/PayUrl.php';
require $module . '/Controller/Redirect/Index.php';

use Bluepaid\Hub\Controller\Redirect\Index;
use Bluepaid\Hub\Model\Payment;
use Bluepaid\Hub\Model\PayUrl;

$failures = 0;

function check($name, $got, $want)
{
    global $failures;
    if ($got === $want) {
        echo "ok {$name}\n";
        return;
    }
    $failures++;
    echo "FAIL {$name}: got " . var_export($got, true) . ', want ' . var_export($want, true) . "\n";
}

class Config implements \Magento\Framework\App\Config\ScopeConfigInterface
{
    public $values = array();

    public function getValue($path, $scopeType = 'default', $scopeCode = null)
    {
        return isset($this->values[$path]) ? $this->values[$path] : null;
    }
}

$template = 'https://hub.example/pay/myshop/{order_ref}?key={key}';

check('registered', \Magento\Framework\Component\ComponentRegistrar::$registered[0][1], 'Bluepaid_Hub');

// The pay URL.
check('url', PayUrl::build($template, 3, '61f76d'), 'https://hub.example/pay/myshop/3?key=61f76d');
check('key encoded', PayUrl::build($template, '3', 'a&b c'), 'https://hub.example/pay/myshop/3?key=a%26b%20c');
check('plain http refused', PayUrl::build('http://hub.example/pay/s/{order_ref}?key={key}', 3, 'k'), '');
check('http on the own machine', PayUrl::build('http://127.0.0.1:5000/pay/s/{order_ref}?key={key}', 3, 'k'), 'http://127.0.0.1:5000/pay/s/3?key=k');
check('no key placeholder', PayUrl::build('https://hub.example/pay/s/{order_ref}', 3, 'k'), '');
check('id not a number', PayUrl::build($template, '3/../4', 'k'), '');
check('no protect code', PayUrl::build($template, 3, ''), '');

// The method.
$method = new Payment();
check('code', $method->getCode(), 'bluepaid_hub');
check('initialised, never captured here', $method->isInitializeNeeded(), true);
check('EUR offered', $method->canUseForCurrency('EUR'), true);
check('SEK not offered', $method->canUseForCurrency('SEK'), false);
$state = new \Magento\Framework\DataObject();
$method->initialize('authorize', $state);
check('waits for its payment', array($state->getState(), $state->getStatus(), $state->getIsNotified()), array('pending_payment', 'pending_payment', false));

// The redirect after the order is placed.
function order($method, $id = 3, $code = '61f76d')
{
    $payment = new \Magento\Framework\DataObject();
    $payment->setMethod($method);
    $order = new \Magento\Sales\Model\Order();
    $order->setEntityId($id);
    $order->setProtectCode($code);
    $order->setStoreId(1);
    $order->setPayment($payment);
    return $order;
}

$session = new \Magento\Checkout\Model\Session();
$config = new Config();
$config->values['payment/bluepaid_hub/pay_url_template'] = $template;
$controller = new Index($session, $config, new \Magento\Framework\Controller\Result\RedirectFactory());

$session->order = order('bluepaid_hub');
$result = $controller->execute();
check('redirect', array($result->url, $result->path), array('https://hub.example/pay/myshop/3?key=61f76d', null));

$session->order = order('checkmo');
check('another method goes back to the cart', $controller->execute()->path, 'checkout/cart');

$session->order = null;
check('no order goes back to the cart', $controller->execute()->path, 'checkout/cart');

$session->order = order('bluepaid_hub');
$config->values['payment/bluepaid_hub/pay_url_template'] = '';
check('no template goes back to the cart', $controller->execute()->path, 'checkout/cart');

if ($failures > 0) {
    echo "{$failures} failed\n";
    exit(1);
}
echo "all passed\n";
