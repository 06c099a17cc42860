<?php
namespace PrestaShop\PrestaShop\Core\Payment;

/** A stub of PrestaShop's PaymentOption: a fluent bag of the values the module sets. */
class PaymentOption
{
    public $values = [];

    public function __call($name, $arguments)
    {
        $this->values[$name] = $arguments[0];

        return $this;
    }
}
