<?php
/**
 * The few PrestaShop classes the Bluepaid module touches, as small stubs that record
 * what the module does with them. Not PrestaShop's code: only the signatures the module
 * calls, with the behaviour the tests need.
 */
define('_PS_VERSION_', '8.1.7');

class RedirectDone extends Exception
{
    public $url;

    public function __construct($url)
    {
        parent::__construct($url);
        $this->url = $url;
    }
}

class Configuration
{
    public static $values = [];

    public static function get($name)
    {
        return isset(self::$values[$name]) ? self::$values[$name] : false;
    }

    public static function updateValue($name, $value)
    {
        self::$values[$name] = $value;

        return true;
    }

    public static function deleteByName($name)
    {
        unset(self::$values[$name]);

        return true;
    }
}

class Tools
{
    public static function redirect($url)
    {
        throw new RedirectDone($url);
    }
}

class Validate
{
    public static function isLoadedObject($object)
    {
        return is_object($object) && !empty($object->id);
    }
}

class Customer
{
    public static $known = [];
    public $id;
    public $secure_key;

    public function __construct($id)
    {
        if (isset(self::$known[$id])) {
            $this->id = $id;
            $this->secure_key = self::$known[$id];
        }
    }
}

class Order
{
    public static $known = [];
    public $id;
    public $secure_key;

    public function __construct($id)
    {
        if (isset(self::$known[$id])) {
            $this->id = $id;
            $this->secure_key = self::$known[$id];
        }
    }
}

class Cart
{
    const BOTH = 3;
    public $id = 7;
    public $id_customer = 1;
    public $id_address_delivery = 4;
    public $id_address_invoice = 4;

    public function getOrderTotal($withTaxes, $type)
    {
        return 36.6;
    }
}

class Link
{
    public function getModuleLink($module, $controller, $params, $ssl)
    {
        return "https://shop.example/module/$module/$controller";
    }
}

class Context
{
    public $cart;
    public $currency;
    public $link;
}

class Module
{
    public $name;
    public $active = true;
    public $context;
}

class PaymentModule extends Module
{
    public $currentOrder;
    public $displayName;
    public $validated = [];

    public function __construct()
    {
    }

    /** Records the call and "creates" order 42 with the secure key it was given. */
    public function validateOrder($idCart, $idState, $amount, $method, $message, $extra, $idCurrency, $dontTouch, $secureKey)
    {
        $this->validated[] = func_get_args();
        $this->currentOrder = 42;
        Order::$known[42] = $secureKey;

        return true;
    }

    public function l($text)
    {
        return $text;
    }
}

class ModuleFrontController
{
    public $module;
    public $context;
}
